#!/usr/bin/env python3
"""Writes the demo personalisation dataset: restaurant booking requests in everyday English, to be turned
into the house's reservation record format ("name=Maria; party=4; time=19:00; day=Friday").

The base model answers in prose or in a format of its own, so its exact-match score starts near zero;
a short fine-tune teaches the format and the time conversions. All text is written for this project
(public domain). Deterministic: the same seed writes the same files.

Usage: scripts/make-demo-dataset.py [OUT_DIR]   (default resources/demo)
"""
import json
import os
import random
import sys

NAMES = ["Maria", "John", "Aisha", "Kenji", "Olga", "Pedro", "Fatima", "Liam", "Chen", "Sofia", "Ahmed",
         "Emma", "Ravi", "Hana", "Lucas", "Zara", "Tomasz", "Ingrid", "Diego", "Mei", "Noah", "Amara",
         "Yusuf", "Clara", "Mateo", "Leila", "Oscar", "Priya", "Felix", "Nadia", "Hugo", "Elena", "Omar",
         "Greta", "Pablo", "Yuki", "Sven", "Lucia", "Arjun", "Rosa"]
HELD_OUT_NAMES = ["Beatrix", "Kofi", "Anneke", "Rashid", "Colette", "Dmitri", "Ines", "Tariq"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}


def spoken_time(hour, minute, rng):
    """An everyday way of saying hour:minute (24 h), and the record's HH:MM."""
    twelve = hour - 12 if hour > 12 else hour
    suffix = "pm" if hour >= 12 else "am"
    options = []
    if minute == 0:
        options += [f"{twelve} {suffix}", f"{twelve} o'clock in the {'evening' if hour >= 17 else 'afternoon' if hour >= 12 else 'morning'}",
                    f"{hour:02d}:00"]
        if hour == 12:
            options.append("noon")
    elif minute == 30:
        options += [f"half past {twelve} {suffix}", f"{twelve}:30 {suffix}", f"{hour:02d}:30"]
    else:
        options += [f"{twelve}:{minute:02d} {suffix}", f"{hour:02d}:{minute:02d}"]
    return rng.choice(options), f"{hour:02d}:{minute:02d}"


def party_phrase(size, rng):
    if size == 1:
        return rng.choice(["just me", "a table for one", "one person"])
    word = NUMBER_WORDS[size] if rng.random() < 0.6 else str(size)
    return rng.choice([f"a table for {word}", f"{word} people", f"{word} of us", f"a party of {word}"])


TEMPLATES = [
    "Hi, this is {name}. Could I get {party} at {time} on {day}?",
    "{name} here - we'd like {party} on {day} at {time}, please.",
    "Please book {party} for {name}, {day} at {time}.",
    "Can you reserve {party} on {day}? The name is {name}, and we'll arrive at {time}.",
    "Good morning! {name} calling. {day}, {time}, {party}.",
    "I want to book {party} at {time} this {day}. Put it under {name}.",
    "Reservation request: {name}, {party}, {day} around {time}.",
    "Hello, my name is {name} and I need {party} for {day} at {time}.",
]
HELD_OUT_TEMPLATES = [
    "Hey there, {name} would love {party} on {day} at {time} if you have room.",
    "Could you hold {party} at {time} on {day} for {name}? Thanks!",
]
INSTRUCTION = "Convert the booking request into a reservation record."


def example(rng, names, templates):
    name = rng.choice(names)
    size = rng.randint(1, 12)
    hour = rng.choice([11, 12, 13, 14, 17, 18, 19, 20, 21])
    minute = rng.choice([0, 0, 15, 30, 30, 45])
    day = rng.choice(DAYS)
    said, record_time = spoken_time(hour, minute, rng)
    text = rng.choice(templates).format(name=name, party=party_phrase(size, rng), time=said, day=day)
    return {"instruction": INSTRUCTION, "input": text,
            "output": f"name={name}; party={size}; time={record_time}; day={day}"}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "resources", "demo")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(2025)
    train = [example(rng, NAMES, TEMPLATES) for _ in range(320)]
    # Held out: names and phrasings the model never saw in training.
    test = [example(rng, HELD_OUT_NAMES, TEMPLATES + HELD_OUT_TEMPLATES) for _ in range(48)]
    for name, rows in (("bookings-train.jsonl", train), ("bookings-test.jsonl", test)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(train)} training and {len(test)} held-out examples to {out}")


if __name__ == "__main__":
    main()
