"""Experiments that answer practitioners' questions, with reports and plots.

``compare`` (do embeddings beat one-hot here?), ``sweep`` (how does a Word2Vec
parameter change cost and quality?), ``validate`` (our SGNS against gensim on
the same tokens) and ``report`` (tables, Markdown and PNG plots of their
runs). They use the library below them (train, evaluate, embeddings) and are
used only by the command line and the benchmarks.
"""
