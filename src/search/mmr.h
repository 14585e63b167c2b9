// Maximal marginal relevance (Carbonell & Goldstein, 1998): a ranking that
// trades relevance for diversity.
#pragma once

#include <cstddef>
#include <vector>

namespace simile::search {

// Chooses up to k of n candidates greedily: each next one maximises
//   lambda * rel'(i) - (1 - lambda) * max over chosen j of cos(v_i, v_j)
// where rel' is `relevance` min-max normalised to [0, 1] (all equal: all 1)
// and v are the candidates' vectors (n x dims, any length; a zero vector has
// cosine 0 to everything). Ties go to the earlier candidate. Returns the
// chosen indices in the order chosen; lambda = 1 gives the relevance order.
std::vector<size_t> mmr_order(const std::vector<float>& relevance, const std::vector<float>& vectors, size_t dims,
                              size_t k, double lambda);

}  // namespace simile::search
