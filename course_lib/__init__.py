"""course_lib: the small, tested package behind the LLM Cost & Latency Lab notebooks.

One module per concept: ``tokens`` counts what you are billed for, ``pricing`` turns tokens into
exact dollars, ``sandbox`` is the local OpenAI-compatible server every notebook measures, and
``llm`` builds the official ``openai`` client pointed at it (or at a real endpoint).
"""

__version__ = "0.1.0"
