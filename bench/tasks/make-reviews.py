#!/usr/bin/env python3
"""Writes the study's second task: customer reviews in everyday English turned into a one-line JSON record
({"product": "kettle", "stars": 4, "sentiment": "positive"}). Unlike the demo's bookings (copy fields
into a key=value line), it asks for a judgement (sentiment from the stars), numbers written as words or
fractions, and JSON's quoting and braces. Test products are never seen in training. All text is written
for this project (public domain). Deterministic: the same seed writes the same files.

Usage: bench/tasks/make-reviews.py [OUT_DIR]   (default bench/tasks)
"""
import json
import os
import random
import sys

PRODUCTS = ["kettle", "toaster", "blender", "desk lamp", "backpack", "umbrella", "headphones", "keyboard",
            "coffee grinder", "water bottle", "yoga mat", "office chair", "phone case", "rice cooker",
            "hair dryer", "bike light", "tent", "frying pan", "alarm clock", "wool scarf", "sneakers",
            "power bank", "mouse", "notebook", "teapot", "suitcase", "thermos", "fan", "drill", "monitor"]
HELD_OUT_PRODUCTS = ["air fryer", "camping stove", "e-reader", "garden hose", "smartwatch", "vacuum cleaner"]
WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
GOOD = ["works perfectly", "exceeded my expectations", "is great value", "feels really solid",
        "does exactly what I wanted"]
MIXED = ["is okay but nothing special", "does the job, with a few quirks", "is fine for the price",
         "has pros and cons"]
BAD = ["broke after a week", "is a waste of money", "stopped working quickly", "feels cheap and flimsy",
       "was a disappointment"]
TEMPLATES = [
    "Bought the {product} last month. It {verdict}. {stars_cap}.",
    "{stars_cap} for this {product}: it {verdict}.",
    "My new {product} {verdict}. I'd give it {stars}.",
    "Review of the {product} - {verdict_cap}. Rating: {stars}.",
    "Honestly, the {product} {verdict}. {stars_cap}.",
    "I have used this {product} daily. It {verdict}; {stars}.",
]
HELD_OUT_TEMPLATES = [
    "Quick note on the {product}: it {verdict}. Overall {stars}.",
    "After two weeks with the {product}, I can say it {verdict}. {stars_cap}.",
]


def stars_phrase(n, rng):
    word = WORDS[n]
    return rng.choice([f"{n} stars" if n > 1 else "1 star", f"{word} out of five", f"{n}/5",
                       f"{word} stars" if n > 1 else "one star"])


def sentiment(n):
    return "negative" if n <= 2 else "neutral" if n == 3 else "positive"


def record(product, templates, rng):
    n = rng.randint(1, 5)
    verdict = rng.choice(BAD if n <= 2 else MIXED if n == 3 else GOOD)
    stars = stars_phrase(n, rng)
    text = rng.choice(templates).format(product=product, verdict=verdict, verdict_cap="it " + verdict,
                                        stars=stars, stars_cap=stars[0].upper() + stars[1:])
    output = json.dumps({"product": product, "stars": n, "sentiment": sentiment(n)})
    return {"instruction": "Summarise the customer review as a JSON record.", "input": text, "output": output}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(20261203)
    train = [record(rng.choice(PRODUCTS), TEMPLATES, rng) for _ in range(320)]
    test = [record(rng.choice(HELD_OUT_PRODUCTS), TEMPLATES + HELD_OUT_TEMPLATES, rng) for _ in range(48)]
    for name, rows in (("reviews-train.jsonl", train), ("reviews-test.jsonl", test)):
        with open(os.path.join(out, name), "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
