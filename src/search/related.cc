#include "search/related.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace simile::search {

namespace {

using Lists = std::map<int64_t, std::vector<Hit>>;  // document -> related, best first

// The k best other documents for each of `docs`.
Lists compute_lists(const FlatIndex& documents, const std::vector<int64_t>& docs, size_t k) {
  std::vector<float> queries(docs.size() * documents.dims());
  std::vector<float> v(documents.dims());
  for (size_t i = 0; i < docs.size(); ++i) {
    const size_t p = *documents.position(docs[i]);
    decode_vectors(VectorType::kF32, documents.code_at(p), 1, documents.dims(), queries.data() + i * documents.dims());
  }
  auto results = documents.search_batch(queries.data(), docs.size(), k + 1);
  Lists lists;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::vector<Hit>& list = lists[docs[i]];
    for (const Hit& h : results[i])
      if (h.id != docs[i] && list.size() < k) list.push_back(h);
  }
  return lists;
}

Status write_lists(store::Store& store, const store::CollectionRow& row, const Lists& lists, bool clear_all) {
  sqlite::Database& db = store.db();
  SIMILE_ASSIGN_OR_RETURN(auto tx, sqlite::Transaction::begin(db));
  if (clear_all) {
    SIMILE_ASSIGN_OR_RETURN(auto wipe, db.prepare("DELETE FROM related WHERE document_id IN "
                                                  "(SELECT id FROM documents WHERE collection_id = ?)"));
    SIMILE_RETURN_IF_ERROR(wipe.bind(1, row.id).run());
    SIMILE_ASSIGN_OR_RETURN(auto fresh,
                            db.prepare("UPDATE documents SET related_stale = 0 WHERE collection_id = ? AND "
                                       "related_stale != 0"));
    SIMILE_RETURN_IF_ERROR(fresh.bind(1, row.id).run());
  }
  SIMILE_ASSIGN_OR_RETURN(auto del, db.prepare("DELETE FROM related WHERE document_id = ?"));
  SIMILE_ASSIGN_OR_RETURN(auto ins,
                          db.prepare("INSERT INTO related(document_id, rank, related_id, score) VALUES(?,?,?,?)"));
  SIMILE_ASSIGN_OR_RETURN(auto fresh, db.prepare("UPDATE documents SET related_stale = 0 WHERE id = ?"));
  for (const auto& [doc, list] : lists) {
    if (!clear_all) {
      del.reset();
      SIMILE_RETURN_IF_ERROR(del.bind(1, doc).run());
      fresh.reset();
      SIMILE_RETURN_IF_ERROR(fresh.bind(1, doc).run());
    }
    for (size_t r = 0; r < list.size(); ++r) {
      ins.reset();
      ins.bind(1, doc).bind(2, static_cast<int64_t>(r + 1)).bind(3, list[r].id);
      ins.bind(4, static_cast<double>(list[r].score));
      SIMILE_RETURN_IF_ERROR(ins.run());
    }
  }
  return tx.commit();
}

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<int64_t> all_documents(const FlatIndex& documents) {
  std::vector<int64_t> ids(documents.size());
  for (size_t p = 0; p < documents.size(); ++p) ids[p] = documents.id_at(p);
  return ids;
}

}  // namespace

Result<RelatedSummary> rebuild_related(store::Store& store, const store::CollectionRow& row, CollectionIndex& index) {
  const auto start = std::chrono::steady_clock::now();
  const FlatIndex& documents = index.documents();
  Lists lists;
  if (row.info.related_k > 0) lists = compute_lists(documents, all_documents(documents), row.info.related_k);
  SIMILE_RETURN_IF_ERROR(write_lists(store, row, lists, /*clear_all=*/true));
  return RelatedSummary{lists.size(), since(start)};
}

Result<RelatedSummary> refresh_related(store::Store& store, const store::CollectionRow& row, CollectionIndex& index) {
  const auto start = std::chrono::steady_clock::now();
  sqlite::Database& db = store.db();
  std::vector<int64_t> stale, changed;
  {
    SIMILE_ASSIGN_OR_RETURN(
        auto q, db.prepare("SELECT id, related_stale FROM documents WHERE collection_id = ? AND related_stale != 0 "
                           "ORDER BY id"));
    q.bind(1, row.id);
    for (;;) {
      SIMILE_ASSIGN_OR_RETURN(bool has, q.step());
      if (!has) break;
      stale.push_back(q.column_int(0));
      if (q.column_int(1) == 2) changed.push_back(q.column_int(0));
    }
  }
  if (stale.empty()) return RelatedSummary{0, since(start)};
  const FlatIndex& documents = index.documents();
  const size_t k = row.info.related_k;
  if (k == 0 || changed.size() * 4 > documents.size()) return rebuild_related(store, row, index);

  Lists lists = compute_lists(documents, stale, k);
  // Offer each changed document to the lists of the others: it enters a list
  // whose worst entry scores below it.
  if (!changed.empty()) {
    Lists current;
    {
      SIMILE_ASSIGN_OR_RETURN(auto q, db.prepare("SELECT r.document_id, r.related_id, r.score FROM related r JOIN "
                                                 "documents d ON d.id = r.document_id WHERE d.collection_id = ? "
                                                 "ORDER BY r.document_id, r.rank"));
      q.bind(1, row.id);
      for (;;) {
        SIMILE_ASSIGN_OR_RETURN(bool has, q.step());
        if (!has) break;
        current[q.column_int(0)].push_back({q.column_int(1), static_cast<float>(q.column_double(2))});
      }
    }
    const std::unordered_set<int64_t> recomputed(stale.begin(), stale.end());
    std::vector<float> v(documents.dims());
    for (int64_t c : changed) {
      decode_vectors(VectorType::kF32, documents.code_at(*documents.position(c)), 1, documents.dims(), v.data());
      for (const Hit& h : documents.search(v.data(), documents.size())) {
        if (h.id == c || recomputed.count(h.id) != 0) continue;
        std::vector<Hit>& list = current[h.id];
        if (list.size() >= k && !hit_before({c, h.score}, list.back())) continue;
        list.push_back({c, h.score});
        std::sort(list.begin(), list.end(), hit_before);
        if (list.size() > k) list.pop_back();
        lists[h.id] = list;
      }
    }
  }
  SIMILE_RETURN_IF_ERROR(write_lists(store, row, lists, /*clear_all=*/false));
  return RelatedSummary{lists.size(), since(start)};
}

}  // namespace simile::search
