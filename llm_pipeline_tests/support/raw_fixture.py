"""A tiny raw data directory holding every format and every kind of bad input."""

import json

TOPICS = [
    (
        "How do I keep basil from bolting?",
        "Pinch off the flower buds as soon as they appear and harvest the top leaves often.",
    ),
    (
        "Why does bread dough need to rest?",
        "Resting lets the gluten relax and the yeast produce gas, so the loaf rises evenly.",
    ),
    (
        "What does a router do on a home network?",
        "It forwards packets between your devices and the internet and hands out local addresses.",
    ),
    (
        "How tight should a bicycle chain be?",
        "A derailleur bike keeps tension automatically; a single-speed chain should move about a centimetre.",
    ),
    (
        "What is an index fund?",
        "A fund that holds every stock of an index, so its return follows the market at a low fee.",
    ),
    (
        "How can I see Jupiter's moons?",
        "Steady binoculars on a tripod show the four largest moons as small points beside the planet.",
    ),
    (
        "How should I treat a minor burn?",
        "Cool it under running water for twenty minutes, then cover it loosely with a clean dressing.",
    ),
    (
        "Why sand with the grain?",
        "Scratches across the grain show up under finish, while scratches along it blend into the wood.",
    ),
]

# Distinct questions, so that near-duplicate removal leaves the small fixture big enough to split.
MORE_QUESTIONS = [
    (
        "When should I repot a houseplant?",
        "Repot when roots circle the pot or poke out of the drainage holes, ideally in spring.",
    ),
    ("What makes a good password?", "Length matters most: four or five random words beat a short string of symbols."),
    ("How do I descale a kettle?", "Boil a mix of water and white vinegar, leave it for an hour, then rinse twice."),
    (
        "Why do cats knead blankets?",
        "Kneading is a kitten habit from nursing that adult cats keep when they feel safe.",
    ),
    ("How long should I practise scales?", "Ten focused minutes a day does more than an hour once a week."),
    (
        "What is a stop bath in film development?",
        "A weak acid that halts the developer at once, so every frame gets the same time.",
    ),
    (
        "How do I stop a squeaky door hinge?",
        "Lift the pin, wipe it, add a drop of light oil and swing the door a few times.",
    ),
    (
        "Why does my sourdough starter smell of acetone?",
        "It is hungry: feed it more often or at a higher ratio of fresh flour.",
    ),
    ("What is compound interest?", "Interest earned on earlier interest, so savings grow faster the longer they stay."),
    (
        "How far can I see with a small telescope?",
        "A 70 mm refractor shows Saturn's rings, the Moon's craters and bright galaxies.",
    ),
    (
        "How do I clean a cast-iron pan?",
        "Scrub with hot water and a brush, dry it on the stove and wipe on a thin film of oil.",
    ),
    (
        "What should a basic first aid kit hold?",
        "Plasters, sterile dressings, tape, gloves, scissors, tweezers and a foil blanket.",
    ),
    (
        "How often should I water tomatoes?",
        "Deeply two or three times a week; shallow daily watering keeps roots near the surface.",
    ),
    (
        "Why is my Wi-Fi slow in one room?",
        "Walls, mirrors and fish tanks absorb the signal; move the router higher or add a mesh point.",
    ),
    ("How do I true a wobbly wheel?", "Tighten spokes on the side away from the wobble a quarter turn at a time."),
    (
        "What glue is best for wood joints?",
        "Ordinary PVA wood glue is stronger than the wood itself when the joint fits well.",
    ),
    (
        "How can I keep a dog calm during fireworks?",
        "Give it a dark den, close the curtains and play steady background noise.",
    ),
    (
        "What is a Python virtual environment?",
        "A folder with its own interpreter and packages, so projects do not share dependencies.",
    ),
    (
        "How do I read a nutrition label?",
        "Start with the serving size, then compare sugar, salt and fibre per hundred grams.",
    ),
    (
        "Why do onions make you cry?",
        "Cutting releases a sulphur gas that turns into a mild acid on the surface of the eye.",
    ),
    (
        "How should I store fresh herbs?",
        "Stand soft herbs in a glass of water; wrap woody herbs in a damp towel in the fridge.",
    ),
    (
        "What is a good first woodworking project?",
        "A simple box or a step stool teaches measuring, sawing square and gluing up.",
    ),
    (
        "How do I back up my phone photos?",
        "Turn on automatic upload to one cloud service and copy them to a disk every few months.",
    ),
    (
        "Why should I warm up before running?",
        "Five minutes of easy jogging raises muscle temperature and lowers the risk of strains.",
    ),
    (
        "How do I remove a stripped screw?",
        "Press a wide rubber band between the bit and the head, then turn slowly with firm pressure.",
    ),
    (
        "What does a budget spreadsheet need?",
        "Income, fixed costs, variable costs and a line for savings, reviewed once a month.",
    ),
    ("How can I tell if an egg is fresh?", "Place it in water: a fresh egg lies flat, an old one stands up or floats."),
    (
        "Why do leaves change colour in autumn?",
        "Trees stop making chlorophyll, revealing yellow pigments and producing new red ones.",
    ),
    (
        "How do I tune a guitar by ear?",
        "Match the fifth fret of each string to the next open string, except G to B at the fourth.",
    ),
    (
        "What causes condensation on windows?",
        "Warm moist indoor air meets cold glass; ventilate after cooking and showering.",
    ),
    (
        "How do I patch a hole in drywall?",
        "Cover it with a self-adhesive mesh patch, spread two thin coats of filler and sand smooth.",
    ),
    (
        "What is the best way to learn vocabulary?",
        "Short daily reviews spaced over days, using the words in sentences of your own.",
    ),
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
        "title;body\nCaf\u00e9 cr\u00e8me;Steam the milk to about sixty degrees \u2013 hotter scalds it.\n".encode(
            "cp1252"
        )
    )
    values = ",".join(
        f"({index},{mysql_string(question)},{mysql_string(answer)})"
        for index, (question, answer) in enumerate(TOPICS[4:])
    )
    (raw / "sql" / "posts.sql").write_text(
        "CREATE TABLE `posts` (`id` int, `title` varchar(200), `body` text);\n"
        f"INSERT INTO `posts` VALUES {values};\n"
        "INSERT INTO `posts` VALUES (99, 'unterminated);\n"
    )
    lines = [json.dumps({"input": question, "output": answer}) for question, answer in TOPICS + MORE_QUESTIONS]
    lines.append(json.dumps({"input": TOPICS[0][0], "output": TOPICS[0][1]}))  # an exact duplicate
    lines.append(
        json.dumps({"input": "Do you have opinions?", "output": "As an AI language model, I do not have opinions."})
    )
    lines.append(
        json.dumps(
            {
                "input": "Are you trained by OpenAI?",
                "output": "No, I was fine-tuned from a small local model on this data.",
            }
        )
    )
    lines.append('{"input": "broken line')
    (raw / "jsonl" / "qa.jsonl").write_text("\n".join(lines) + "\n")
    return root
