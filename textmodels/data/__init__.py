"""Dataset readers: every reader returns plain Python/NumPy data and raises `DataError` naming the culprit."""
