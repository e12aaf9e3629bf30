# Source of exercises/ex02_model_routing.ipynb and exercises/solutions/ex02_model_routing.ipynb.
# Edit this file, then run: .venv/bin/python scripts/build_exercises.py ex02_model_routing

# %% [markdown]
# # Exercise 2 · Plug in model routing (任务2:接入模型路由)
#
# The lesson's second task: route every message to the cheap model (`gpt-4o-mini`) unless it
# needs the strong one (`gpt-4o`). Notebook `05_model_routing` measured the lesson's router on
# held-out questions and found it *worse than never routing*: "API" never matches a lower-cased
# query, "terror" counts as "error", and its thresholds were guesses. Then it measured what each
# rule is worth once fixed and fitted. Now write a router the data supports, and let the check
# grade it on questions it has never seen:
#
# | | you write | the check asks |
# |---|---|---|
# | q1 | `keyword_matches(query, keyword)` | case, whole words, Chinese: 18 hand-labelled queries |
# | q2 | `best_threshold(values, labels, miss_cost)` | is it the best cut-off on labelled data? |
# | q3 | `build_router(train)` | the accuracy and complex recall printed below, on the test split |
#
# **How it works.** Each ✏️ **YOUR CODE** cell holds a stub that raises `NotImplementedError`.
# Replace it, run the cell, then run the `check(...)` cell below it: ✅ passed, ⏳ not done yet,
# or ❌ not yet right, with the input that failed, what was expected, what came back and a hint.
# `hint("ex02.q1")` gives one more hint each time you run it.

# %%
import re
import unicodedata

from course_lib.checks import check, hint, preview
from course_lib.checks.ex02_model_routing import MIN_ACCURACY, MIN_COMPLEX_RECALL
from course_lib.datasets import load_routing_queries
from course_lib.lesson.model_router import LessonModelRouter
from course_lib.tokens import count_tokens

train = load_routing_queries("train")
test = load_routing_queries("test")
print(f"{len(train)} labelled training queries, {len(test)} held-out test queries")
for item in train[:4]:
    print(f"  {item.label:8} turns={item.turns}  {item.query}")

# %% [markdown]
# ## The baseline: the lesson's router on the test queries
#
# Before writing anything, measure what you are replacing. The lesson's Go router, ported line
# by line, on the held-out test queries (no learner code here):

# %%
def measure(route, queries):
    """Accuracy, recall of complex queries, and the share sent to gpt-4o."""
    to_strong = [route(item.query, item.turns) == "gpt-4o" for item in queries]
    is_complex = [item.label == "complex" for item in queries]
    pairs = list(zip(to_strong, is_complex, strict=True))
    accuracy = sum(strong == wanted for strong, wanted in pairs) / len(queries)
    recall = sum(strong and wanted for strong, wanted in pairs) / sum(is_complex)
    share = sum(to_strong) / len(queries)
    return f"accuracy {accuracy:.0%}, complex recall {recall:.0%}, gpt-4o share {share:.0%}"


lesson_router = LessonModelRouter()
print("lesson's router :", measure(lambda q, t: lesson_router.route(q, t).model, test))
print("never routing   :", measure(lambda q, t: "gpt-4o-mini", test))
print(f"the check of q3 asks for accuracy >= {MIN_ACCURACY:.0%} and complex recall >= "
      f"{MIN_COMPLEX_RECALL:.0%}")

# %% [markdown]
# ## q1 · Keyword matching that finds "API"
#
# Write `keyword_matches(query, keyword)`: `True` when the keyword occurs in the query **as a
# word**. Three things the lesson's `strings.Contains(strings.ToLower(query), kw)` gets wrong:
#
# 1. **Case**: lower-case (better: `casefold`) the query *and* the keyword. Chinese keyboards also
#    type full-width letters (`ＡＰＩ`): `unicodedata.normalize("NFKC", text)` makes them plain.
# 2. **Whole words** for Latin keywords: "error" must not fire on "terror", nor "code" on
#    "decode" or "postcode". A keyword is a word when no Latin letter or digit touches it on
#    either side. (Careful: Python's `\b` treats Chinese characters as word characters, so it
#    finds no boundary in `API限流`.)
# 3. **Chinese keywords** match as substrings: Chinese has no spaces between words.

# %%
# ✏️ YOUR CODE: normalise both sides; whole words for Latin keywords, substrings for Chinese.
def keyword_matches(query: str, keyword: str) -> bool:
    """Whether ``keyword`` occurs in ``query`` as a word (case and width ignored)."""
    ### BEGIN SOLUTION
    def normalise(text):
        return unicodedata.normalize("NFKC", text).casefold()

    query, keyword = normalise(query), normalise(keyword)
    pattern = re.escape(keyword)
    latin = "[0-9a-z]"
    if re.fullmatch(latin, keyword[0]):
        pattern = f"(?<!{latin})" + pattern
    if re.fullmatch(latin, keyword[-1]):
        pattern += f"(?!{latin})"
    return re.search(pattern, query) is not None
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write keyword_matches(query, keyword): True when the keyword occurs in the query as a "
        "word, whatever its case or width"
    )
    ### END STUB


# %%
check("ex02.q1", keyword_matches)

# %% [markdown]
# ## q2 · A threshold fitted, not guessed
#
# The lesson sends a query to the strong model when it is longer than 200 characters: a guess.
# Fit it instead. Given each training query's length (`values`) and its label (`"simple"` or
# `"complex"`), `best_threshold(values, labels, miss_cost=1.0)` returns the cut-off `t` that
# makes the fewest mistakes when queries with `value > t` go to the strong model.
#
# Mistakes are not equal: a simple query on `gpt-4o` wastes a little money (cost 1), a complex
# query on `gpt-4o-mini` gets a worse answer (cost `miss_cost`). Minimise the total. Only a
# few cut-offs are worth trying: one below the smallest value, and each value itself.

# %%
# ✏️ YOUR CODE: try every useful cut-off, keep the one with the smallest weighted cost.
def best_threshold(values: list[int], labels: list[str], miss_cost: float = 1.0) -> int:
    """The cut-off t (strong model when value > t) with the fewest weighted mistakes."""
    ### BEGIN SOLUTION
    def cost(t):
        total = 0.0
        for value, label in zip(values, labels, strict=True):
            if label == "complex" and value <= t:
                total += miss_cost  # a complex query answered by the small model
            elif label == "simple" and value > t:
                total += 1.0  # a simple query on the expensive model
        return total

    return min([min(values) - 1, *sorted(set(values))], key=cost)
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write best_threshold(values, labels, miss_cost): the cut-off with the fewest weighted "
        "mistakes"
    )
    ### END STUB


# %%
check("ex02.q2", best_threshold)

# %% [markdown]
# ## q3 · A router the data supports, graded on queries it has never seen
#
# `build_router(train)` receives the labelled **training** queries and returns a function
# `route(query, conversation_turns)` that answers `"gpt-4o"` or `"gpt-4o-mini"`.
#
# Notebook 05 measured the lesson's three rules once fixed and fitted: a turn rule, keywords and
# a length threshold. Not all of them earned their place. Build your router the way it did:
# **a rule stays only if it makes the router better on the training queries.**
#
# * `training_mistakes(route, train)` (below) counts a router's weighted mistakes on the training
#   queries: a complex query sent to the small model costs `MISS_COST`, a simple one sent to the
#   strong model costs 1 (notebook 05's policy);
# * fit every threshold with your `best_threshold`, never by hand;
# * try the lesson's keywords (with your `keyword_matches`) and keep them only if the router
#   makes fewer training mistakes with them than without them;
# * think about the unit of `query_length`, too: it is yours to change.
#
# The check builds your router from the train split and runs it on the **test** split, which it
# never saw: it must reach the accuracy and the complex recall printed at the top.

# %%
KEYWORDS = ("配置", "错误", "报错", "exception", "error", "debug", "deploy", "部署", "权限",
            "permission", "API", "代码", "code", "integrate", "集成")  # the lesson's list
MISS_COST = 2.0  # a complex query answered by gpt-4o-mini costs two wasted gpt-4o calls


def training_mistakes(route, train):
    """The weighted mistakes of ``route`` on the labelled ``train`` queries."""
    total = 0.0
    for item in train:
        strong = route(item.query, item.turns) == "gpt-4o"
        if item.label == "complex" and not strong:
            total += MISS_COST
        elif item.label == "simple" and strong:
            total += 1.0
    return total


# %%
# ✏️ YOUR CODE: keep a rule only if it lowers the training mistakes; mind the unit of length.
def query_length(query: str) -> int:
    """How long a query is, in the unit the length rule uses."""
    ### BEGIN SOLUTION
    # Tokens, not characters: a token carries a similar amount of text in English and Chinese.
    return count_tokens(query, "gpt-4o")
    ### END SOLUTION
    ### BEGIN STUB
    return len(query)  # the lesson counts characters: is that a fair unit for Chinese?
    ### END STUB


def build_router(train):
    """A function ``route(query, conversation_turns) -> model name`` fitted on ``train``."""
    ### BEGIN SOLUTION
    def has_keyword(query):
        return any(keyword_matches(query, keyword) for keyword in KEYWORDS)

    def length_router(examples, with_keywords):
        threshold = best_threshold([query_length(item.query) for item in examples],
                                   [item.label for item in examples], miss_cost=MISS_COST)

        def route(query, conversation_turns):
            if (with_keywords and has_keyword(query)) or query_length(query) > threshold:
                return "gpt-4o"
            return "gpt-4o-mini"

        return route

    without_keywords = length_router(train, with_keywords=False)
    # With keywords, the length rule decides only the queries no keyword caught.
    uncaught = [item for item in train if not has_keyword(item.query)]
    with_keywords = length_router(uncaught, with_keywords=True)
    return min((without_keywords, with_keywords),
               key=lambda route: training_mistakes(route, train))
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write build_router(train): a route(query, conversation_turns) function in which every "
        "rule earns its place on the training queries"
    )
    ### END STUB


# %%
check("ex02.q3", build_router)

# %% [markdown]
# ## Try it
#
# Your router on a few queries of your own, and its weighted mistakes on the training queries.
# Add the lesson's traps ("Our book club is called Terror Tales"), a long Chinese question, an
# API question.

# %%
def try_router():
    route = build_router(train)
    queries = [
        "How do I rotate an API key?",
        "Our book club's project is called Terror Tales. How do I rename it?",
        "三个服务共用一个 API 密钥,经常收到 429,应该怎么设计限流才能不超过每分钟 600 次?",
        "Where can I download last month's invoice?",
    ]
    lines = [f"{route(query, 1):12} {query}" for query in queries]
    lines.append(f"weighted mistakes on the {len(train)} training queries: "
                 f"{training_mistakes(route, train):g}")
    return "\n".join(lines)


preview(try_router)

# %% [markdown]
# **Done?** Compare with `course_lib.router.RuleRouter.fit(train)` (the same ideas, with a
# turns rule as well, switched off when the data does not support it) and the `EmbeddingRouter`
# of notebook `05_model_routing`, which learns what a hard question looks like from the labelled
# examples themselves instead of from a list of words. Before trusting any router with real
# users, run the A/B test the lesson recommends (`course_lib.router.sample_size_per_arm`).
