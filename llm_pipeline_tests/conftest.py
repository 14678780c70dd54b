"""Shared fixtures: a tiny raw data directory holding every format and every kind of bad input."""

import json
import os

import pytest

# Two torch threads on two busy cores ran 20x slower; launched trainers inherit this too.
os.environ.setdefault("OMP_NUM_THREADS", "1")

TOPICS = [
    ("How do I keep basil from bolting?", "Pinch off the flower buds as soon as they appear and harvest the top leaves often."),
    ("Why does bread dough need to rest?", "Resting lets the gluten relax and the yeast produce gas, so the loaf rises evenly."),
    ("What does a router do on a home network?", "It forwards packets between your devices and the internet and hands out local addresses."),
    ("How tight should a bicycle chain be?", "A derailleur bike keeps tension automatically; a single-speed chain should move about a centimetre."),
    ("What is an index fund?", "A fund that holds every stock of an index, so its return follows the market at a low fee."),
    ("How can I see Jupiter's moons?", "Steady binoculars on a tripod show the four largest moons as small points beside the planet."),
    ("How should I treat a minor burn?", "Cool it under running water for twenty minutes, then cover it loosely with a clean dressing."),
    ("Why sand with the grain?", "Scratches across the grain show up under finish, while scratches along it blend into the wood."),
]


def mysql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def write_raw_fixture(root):
    raw = root / "raw"
    for fmt in ("html", "csv", "sql", "jsonl"):
        (raw / fmt).mkdir(parents=True, exist_ok=True)
    (raw / "html" / "article.html").write_text(
        "<html><head><title>Compost</title><style>p{}</style><script>var x=1;</script></head><body>"
        "<nav><a href='/'>Home</a><a href='/shop'>Shop</a></nav>"
        "<article><h1>Starting a compost heap</h1><p>Mix green kitchen scraps with brown leaves and turn"
        " the heap every week so that air reaches the middle.</p><p>A good heap is warm to the touch and"
        " smells of earth, not of rot.</p></article><footer>Copyright Garden Weekly</footer></body></html>"
    )
    (raw / "html" / "logo.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (raw / "html" / "empty.html").write_bytes(b"")
    (raw / "csv" / "faq.csv").write_text(
        "question,answer\n"
        + "".join(f'"{question}","{answer}"\n' for question, answer in TOPICS[:4])
        + '"Ragged row",answer,with,extra,fields\n'
    )
    (raw / "csv" / "tips_cp1252.csv").write_bytes(
        "title;body\nCaf\u00e9 cr\u00e8me;Steam the milk to about sixty degrees \u2013 hotter scalds it.\n".encode("cp1252")
    )
    values = ",".join(f"({index},{mysql_string(question)},{mysql_string(answer)})" for index, (question, answer) in enumerate(TOPICS[4:]))
    (raw / "sql" / "posts.sql").write_text(
        "CREATE TABLE `posts` (`id` int, `title` varchar(200), `body` text);\n"
        f"INSERT INTO `posts` VALUES {values};\n"
        "INSERT INTO `posts` VALUES (99, 'unterminated);\n"
    )
    lines = [json.dumps({"input": f"{question} (variant {variant})", "output": f"{answer} Variant {variant}."})
             for variant in range(5) for question, answer in TOPICS]
    lines.append(json.dumps({"input": TOPICS[0][0] + " (variant 0)", "output": TOPICS[0][1] + " Variant 0."}))  # duplicate
    lines.append(json.dumps({"input": "Do you have opinions?", "output": "As an AI language model, I do not have opinions."}))
    lines.append(json.dumps({"input": "Are you trained by OpenAI?", "output": "No, I was fine-tuned from a small local model on this data."}))
    lines.append('{"input": "broken line')
    (raw / "jsonl" / "qa.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def raw_data_dir(tmp_path):
    return write_raw_fixture(tmp_path / "data")
