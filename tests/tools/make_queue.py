#!/usr/bin/env python3
"""make_queue.py - fill a StoryKiosk queue with N consented stories, fast.

Usage: make_queue.py DB N [--no-email-every K] [--status S] [--seed X]

Creates the queue through `storykiosk list` first (so the schema is the real
one, migrated by the program), then inserts rows in one transaction. Prints the
ids, one per line, to stdout. For tests and benchmarks only.
"""
import argparse
import os
import random
import sqlite3
import subprocess
import sys
import time
import uuid

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def reference(story_id):
    bits = int(story_id.replace("-", "")[:10], 16)
    chars = []
    for _ in range(8):
        chars.append(ALPHABET[bits & 31])
        bits >>= 5
    chars.reverse()
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("count", type=int)
    parser.add_argument("--no-email-every", type=int, default=0)
    parser.add_argument("--status", default="queued")
    parser.add_argument("--seed", type=int, default=1)
    # Consent times rising with each story, as a kiosk writes them (each story
    # is saved at its consent); without it they cycle over 20 days, so the
    # queue's consent order is scattered across the file.
    parser.add_argument("--in-order", action="store_true")
    args = parser.parse_args()

    binary = os.environ.get("SK_BIN") or os.path.join(
        os.path.dirname(__file__), "..", "..", "storykiosk")
    subprocess.run([binary, "--db", args.db, "list"], check=True,
                   stdout=subprocess.DEVNULL)
    rng = random.Random(args.seed)
    db = sqlite3.connect(args.db)
    db.execute("BEGIN IMMEDIATE")
    ids = []
    for n in range(args.count):
        story_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        no_email = args.no_email_every and n % args.no_email_every == 0
        if args.in_order:
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1793491200 + n * 37))
        else:
            when = "2026-11-%02dT%02d:%02d:%02dZ" % (1 + n % 20, n % 24, n % 60, n % 59)
        db.execute(
            "INSERT INTO stories (id, created_at, consented_at, form_name, form_version,"
            " operator_name, operator_role, role, title, username, postcode,"
            " postcode_from_service, email, posted_by_staff, consent_given, consent_version,"
            " status, reference) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?)",
            (story_id, when, when, "default", "1", "Test Operator", "staff", "patient",
             "Story %d" % n, "Heron%s" % ALPHABET[n % 32], "LE1 5WW", 0,
             None if no_email else "person%d@example.org" % n, 1 if no_email else 0,
             "1", args.status, reference(story_id)))
        for position, (key, value) in enumerate(
                [("good", "Kind staff, story %d. Zoë «ça va»." % n), ("different", ""),
                 ("title", "Story %d" % n), ("role", "patient")]):
            db.execute("INSERT INTO answers (story_id, position, step_key, value)"
                       " VALUES (?,?,?,?)", (story_id, position, key, value))
        db.execute("INSERT INTO story_services (story_id, position, code, name, postcode)"
                   " VALUES (?,0,'LVH-W7','Ward 7 – Older People''s Medicine','LE5 9QZ')",
                   (story_id,))
        db.execute("INSERT INTO audit (story_id, at, event, actor) VALUES (?,?,?,?)",
                   (story_id, when, "queued", "Test Operator"))
        ids.append(story_id)
    db.commit()
    db.close()
    sys.stdout.write("".join(i + "\n" for i in ids))


if __name__ == "__main__":
    main()
