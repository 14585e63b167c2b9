#include "model/roberta.h"

#include "model/bert.h"

namespace simile {

namespace {

std::unique_ptr<Encoder> make_roberta(const EncoderConfig& config, EncoderWeights weights) {
  const BertStyleEmbeddings e = bert_embeddings(weights);  // the table is BERT's
  return make_bert_style_encoder(roberta_architecture(), config, std::move(weights), e);
}

Architecture make_table_entry() {
  const Architecture& bert = bert_architecture();
  Architecture a = {
      "roberta",
      {"roberta", "xlm-roberta"},
      {"RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification", "XLMRobertaModel",
       "XLMRobertaForMaskedLM", "XLMRobertaForSequenceClassification"},
      {"", "roberta."},
      bert.hidden_acts,
      bert.embedding_tensors,
      bert.layer_tensors,
      make_roberta,
  };
  a.position_ids = PositionIds::kAfterPadToken;
  a.int8_layer_tensors = bert.int8_layer_tensors;
  return a;
}

}  // namespace

const Architecture& roberta_architecture() {
  static const Architecture arch = make_table_entry();
  return arch;
}

}  // namespace simile
