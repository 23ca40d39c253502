"""A bare Flask "hello" app: the baseline the load benchmark compares the platform to."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
