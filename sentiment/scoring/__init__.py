"""Scoring at scale: a lean NumPy scorer for saved models, review tables in and out, and batch scoring on Dask.

``linear.py`` turns a saved pipeline's arrays into NumPy/SciPy arithmetic
(no scikit-learn): ``SentimentModel.load`` uses it for ``predict_proba``.
``tables.py`` reads and writes CSV/TSV (.gz) and Parquet files, globs and
directories of part files for ``predict --input/--output``; ``cluster.py``
scores such a table partition by partition on a Dask cluster. Training and
the model directory's format are ``sentiment.train`` and ``sentiment.model``'s.
Nothing is imported here, so ``import sentiment.scoring.linear`` stays light.
"""
