"""The stock Django peer that `make bench` measures the project against.

What `django-admin startproject` gives (default middleware and apps, DEBUG off) plus one small
app: a one-query view, a naive 30-field form and the stock admin changelist of a 7-column model.
Nothing here is tuned; it shows what plain Django costs on the same machine, server and database.
"""
