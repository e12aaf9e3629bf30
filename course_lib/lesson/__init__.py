"""Faithful Python ports of the lesson's Go code, kept to show what goes wrong.

Each port reproduces the original's behaviour, bugs included, and its docstring says what is
wrong and where the fix lives in ``course_lib``. Notebooks run a port beside the fix so the
learner sees the difference measured; nothing else in the package uses these.
"""
