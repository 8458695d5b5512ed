"""The HTTP surface: the JSON API, its models and answers, body reading, access log,
metrics, serving."""
