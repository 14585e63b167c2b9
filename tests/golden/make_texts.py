#!/usr/bin/env python3
"""Writes texts.jsonl: the golden input texts (one JSON string per line).

  python3 tests/golden/make_texts.py > tests/golden/texts.jsonl

All texts are written for simile. They cover what an embedding engine must get
right: short and long English, punctuation, accents, many scripts (Korean,
Chinese, Japanese, Arabic, Hebrew, Devanagari, Thai), emoji sequences, URLs,
numbers, code, special-token strings, control and zero-width characters,
whitespace-only and empty input, a 101-character word, and texts longer than
the 256-token limit (one of them near the boundary). The first three lines are
the seeds' sanity example.
"""
import json

SEED = [
    "Python can make you rich.",
    "Python can make you itch.",
    "Mastering Python can fill your pockets.",
]

ENGLISH = [
    "hello world",
    "Hello, World!",
    "The quick brown fox jumps over the lazy dog.",
    "What did I do with my keys?",
    "What I did to my life?",
    "I left my keys on the kitchen counter.",
    "Semantic search finds documents by meaning rather than by exact words.",
    "BM25 rewards rare query terms and dampens repeated ones.",
    "How many dimensions does an all-MiniLM-L6-v2 embedding have?",
    "Embeddings turn text of any length into a fixed-size vector of floats.",
    "A cosine similarity of 0.6 means little without knowing the distribution of scores.",
    "france is close to french, belgium and paris in a good word vector space",
    "germany + paris - france should land near berlin",
    "Re-ranking with a cross-encoder is slow, so it only looks at the top candidates.",
    "Chunk long documents at paragraph and sentence boundaries, with a little overlap.",
    "Did you know? Most stop words carry almost no information for retrieval.",
    "I can't believe it's not butter!",
    "She said, \"Don't worry -- it'll be fine.\"",
    "The year's best movies: (1) Dune; (2) Past Lives; (3) Oppenheimer.",
    "RAG = retrieve passages + assemble a cited prompt + ask an LLM.",
    "Unbelievably, the antidisestablishmentarianism debate resurfaced.",
    "COVID-19 vaccines were developed in record time.",
    "e.g., i.e., etc., vs. and Mr. Smith went to Washington.",
    "UPPERCASE TEXT SHOULD BE LOWERCASED BY AN UNCASED MODEL",
    "MiXeD CaSe WoRdS aNd CamelCaseIdentifiers",
    "a",
    "?",
    "...",
    "!!!???",
    "--- *** ___ ~~~ ^^^ ||| <<< >>>",
    "#hashtag @mention $dollar %percent &ampersand",
    "Tabs\tand\tnewlines\ninside\r\na text",
    "Multiple     spaces    between     words",
]

ACCENTS = [
    "café naïve",
    "Crème brûlée and jalapeño piñata at the smörgåsbord",
    "Tiếng Việt có nhiều dấu thanh: à á ả ã ạ",
    "İstanbul ılık bir şehir; Iğdır ve Şırnak doğuda.",
    "ΣΊΣΥΦΟΣ και η Οδύσσεια: λόγος, ψυχή, σοφίας",
    "Die Straße ist groß, aber der Fluß ist größer.",
    "Ångström, Øresund, Ærø, Łódź, Dvořák, Škoda",
    "ﬁne ﬂour and ligatures: ﬀ ﬃ",
    "Ｆｕｌｌｗｉｄｔｈ　ｆｏｒｍｓ　１２３",
    "½ ¾ ² ³ ™ © ® µ",
    "e\u0301 (combining acute) vs \u00e9 (precomposed)",
]

SCRIPTS = [
    "잠이 안 옵니다",
    "북태평양 기단과 오호츠크해 기단이 만나 장마전선이 생깁니다.",
    "한국어 문장은 조사가 단어에 붙어서 띄어쓰기만으로는 나누기 어렵습니다.",
    "임베딩은 텍스트를 고정된 길이의 벡터로 바꿉니다.",
    "서울에서 부산까지 KTX로 2시간 30분 걸립니다.",
    "语义搜索根据含义而不是关键词查找文档。",
    "北京是中国的首都，上海是最大的城市。",
    "機器學習與自然語言處理",
    "日本語のテキストには、ひらがな、カタカナ、漢字が混ざっています。",
    "東京タワーは333メートルです。",
    "ｶﾀｶﾅ (half-width katakana)",
    "اللغة العربية تكتب من اليمين إلى اليسار.",
    "עברית נכתבת מימין לשמאל.",
    "हिन्दी भाषा देवनागरी लिपि में लिखी जाती है।",
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "Русский текст с буквами ё и й.",
    "Mixed: English, 한국어, 中文, 日本語, and العربية in one line.",
    "CJK compatibility ideograph: \uf900 and extension B: \U00020000",
]

EMOJI = [
    "I love pizza 🍕🍕🍕",
    "Great job 👍 see you soon 😀",
    "Family: 👨\u200d👩\u200d👧\u200d👦 and a rainbow flag 🏳\ufe0f\u200d🌈",
    "Flags: 🇰🇷 🇯🇵 🇺🇸 🇫🇷",
    "Skin tones: 👋🏻 👋🏽 👋🏿",
    "Heart with VS16: ❤\ufe0f and without: ❤",
    "Newer emoji: 🫠 🫶 🥹 🪿",
    "Symbols: € £ ¥ ∑ ∫ → ⇒ ♥ ★ ✓",
]

TECHNICAL = [
    "https://example.com/search?q=semantic+search&lang=ko#results",
    "Email me at jane.doe+simile@example.org or call +82-2-123-4567.",
    "Version 3.11.2 was released on 2024-05-17 at 09:30 UTC.",
    "Prices: $1,299.99, €15, ¥3000, ₩50,000 and 12.5% off",
    "3.14159265358979323846264338327950288419716939937510",
    "0x7fffffff 1e-12 -42 +7 1,000,000",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "def cos(a, b): return a @ b / (norm(a) * norm(b))",
    "SELECT id, title FROM docs WHERE body MATCH 'vector' LIMIT 10;",
    "<div class=\"result\"><a href=\"/doc/1\">Title</a></div>",
    "{\"id\": 42, \"tags\": [\"search\", \"ann\"]}",
    "C:\\Users\\simile\\Documents\\notes.txt",
    "snake_case_identifier and kebab-case-identifier",
]

SPECIAL = [
    "what is [MASK]?",
    "[CLS] hello [SEP]",
    "[UNK] and [unk] and [mask] and [PAD]",
    "[MASK][MASK] stuck together",
    "<s> roberta style </s>",
]

CONTROL = [
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "\u00a0\u2003\u3000",
    "\x00\x01",
    "zero\u200bwidth\u200cjoiner\u200dtest",
    "soft\u00adhyphen and BOM\ufeffinside",
    "bell\x07 and escape\x1b[0m and delete\x7f",
    "line\u2028separator and paragraph\u2029separator",
    "\ufffd replacement character",
    "private use \ue000\ue001 characters",
]

LONG_WORDS = [
    "x" * 101,
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 100,
]

PARAGRAPHS = [
    "Monsoon season on the Korean peninsula begins when the warm, humid North Pacific air mass "
    "meets the cool Okhotsk Sea air mass. The boundary between them stalls for weeks, and along "
    "it rain falls day after day. Forecasters watch where the front sits, because a shift of a "
    "hundred kilometres decides whether Seoul or Busan gets the downpour.",
    "A search engine has two jobs: find everything that could be relevant, and then put the best "
    "results first. Keyword indexes are excellent at the first job when the user knows the exact "
    "words, and embeddings help when the user describes an idea in different words. Combining "
    "both, and re-ranking the combined list with a slower but smarter model, usually beats either "
    "approach alone.",
]


def long_text(topic_sentences, words):
    stream = " ".join(topic_sentences).split()
    return " ".join(stream[i % len(stream)] for i in range(words))


DB_SENTENCES = [
    "A database keeps a write-ahead log so that a crash never leaves a half-written page behind.",
    "Before a transaction commits, its log records reach stable storage with an fsync call.",
    "Indexes are rebuilt from the primary data when their checksums do not match.",
    "Readers see a consistent snapshot while a single writer appends new records.",
    "Compaction merges small files into larger ones and drops deleted entries.",
]
COOKING_SENTENCES = [
    "Start the stock with roasted bones, onions, carrots and celery, then cover them with cold water.",
    "Skim the foam as it rises and keep the pot at a gentle simmer for several hours.",
    "Strain the liquid, let it cool, and lift the fat off the top once it has set.",
    "A good stock is the quiet foundation of soups, sauces and risottos alike.",
]
HISTORY_SENTENCES = [
    "The printing press made books cheaper, and cheaper books made readers.",
    "Within fifty years, millions of volumes circulated across Europe.",
    "Scholars could compare editions, correct errors and build on each other's work.",
]


def main():
    texts = SEED + ENGLISH + ACCENTS + SCRIPTS + EMOJI + TECHNICAL + SPECIAL + CONTROL + LONG_WORDS
    texts += PARAGRAPHS
    # Longer than the 256-token limit: 195 words of plain English is about 250
    # tokens; the loop below brackets the boundary and goes far past it.
    for words in (190, 193, 194, 195, 196, 197, 198, 199, 200, 210, 400):
        texts.append(long_text(DB_SENTENCES, words))
    texts.append(long_text(COOKING_SENTENCES, 320))
    texts.append(long_text(HISTORY_SENTENCES, 700))
    texts.append(" ".join(["임베딩", "검색", "벡터", "문서"] * 120))
    texts.append("word " * 600)
    seen = set()
    for t in texts:
        assert t not in seen, t
        seen.add(t)
        print(json.dumps(t, ensure_ascii=False))


if __name__ == "__main__":
    main()
