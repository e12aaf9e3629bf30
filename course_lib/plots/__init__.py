"""matplotlib figures the notebooks draw: one module per kind of figure.

Every function takes measured data and returns a ``matplotlib.figure.Figure``; nothing here
computes or invents a figure of its own.
"""
