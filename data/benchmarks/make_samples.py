"""Generate halo-forge's own offline benchmark samples, in each dataset's schema.

Everything here is written by us: charts drawn with matplotlib from values chosen below,
documents and scenes drawn with PIL from text chosen below, speech synthesised with espeak-ng
from sentences written below, function-calling cases written by hand.

    python data/benchmarks/make_samples.py            # all (audio needs `espeak-ng`)
    python data/benchmarks/make_samples.py --only vlm  # vlm | audio | agentic
    python data/benchmarks/make_samples.py --out DIR   # somewhere else (tests compare bytes)

Output is deterministic: running it again produces byte-identical files.
Images and audio are referenced from the JSONL rows as {"path": "<relative path>"}, the way a
Hugging Face Image/Audio column stores a file; core.benchmarks.data opens them.
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent
SAMPLE_RATE = 16_000  # Whisper's rate, and LibriSpeech's


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _save_png(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG", optimize=True)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# =============================================================================================
# ChartQA: bar charts with known values. Schema: image, query, label (list), human_or_machine.

CHARTS = [
    {"id": "fruit_sales", "title": "Fruit sold in March (crates)", "bars": {"Apples": 42, "Pears": 17, "Plums": 29, "Figs": 8},
     "qa": [("How many crates of pears were sold in March?", "17", 0),
            ("Which fruit sold the most crates?", "Apples", 0),
            ("What is the difference between apples and plums?", "13", 1)]},
    {"id": "rainfall", "title": "Rainfall by month (mm)", "bars": {"Jan": 61.5, "Feb": 48.0, "Mar": 55.2, "Apr": 39.8},
     "qa": [("What was the rainfall in February?", "48", 1),
            ("Which month had the least rainfall?", "Apr", 0),
            ("What is the total rainfall of January and March?", "116.7", 1)]},
    {"id": "survey_share", "title": "Preferred commute (%)", "bars": {"Bike": 34, "Bus": 27, "Car": 22, "Walk": 17},
     "qa": [("What share of people prefer the bus?", "27", 0),
            ("How many options are shown in the chart?", "4", 1)]},
]


def make_chartqa() -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "halo-forge"
    rows = []
    for chart in CHARTS:
        fig, ax = plt.subplots(figsize=(3.6, 2.6), dpi=90)
        labels, values = list(chart["bars"]), list(chart["bars"].values())
        bars = ax.bar(labels, values, color=["#4c72b0", "#dd8452", "#55a868", "#c44e52"])
        ax.bar_label(bars, labels=[f"{v:g}" for v in values], fontsize=8)
        ax.set_title(chart["title"], fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_ylim(0, max(values) * 1.2)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
        rel = f"images/{chart['id']}.png"
        path = OUT / "chartqa" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue())
        for query, label, hm in chart["qa"]:
            rows.append({"image": {"path": rel}, "query": query, "label": [label], "human_or_machine": hm})
    _write_jsonl(OUT / "chartqa" / "test.jsonl", rows)


# =============================================================================================
# DocVQA: PIL documents with known text. Schema: questionId, question, question_types, image,
# docId, ucsf_document_id, ucsf_document_page_no, answers, data_split.

DOCUMENTS = [
    {"doc": 9001, "ucsf": "hfdoc0001", "lines": [
        ("NORTHWIND SUPPLY CO.", 22), ("", 10),
        ("INVOICE No. INV-2041", 18), ("Date: 14 March 2023", 16),
        ("Bill to: Harbor Street Clinic", 16), ("", 8),
        ("Item                       Qty   Amount", 14),
        ("Nitrile gloves (box)        12   $96.00", 14),
        ("Sterile gauze pads          30   $45.00", 14),
        ("TOTAL DUE                       $141.00", 16)],
     "qa": [("What is the invoice number?", ["INV-2041", "inv-2041"], ["form"]),
            ("What is the total amount due?", ["$141.00", "141.00"], ["table/list"]),
            ("Who is the invoice billed to?", ["Harbor Street Clinic"], ["form"])]},
    {"doc": 9002, "ucsf": "hfdoc0002", "lines": [
        ("MEMORANDUM", 22), ("", 10),
        ("To: All laboratory staff", 16), ("From: Dr. Elena Marsh", 16),
        ("Subject: Freezer maintenance", 16), ("Date: June 2, 2022", 16), ("", 8),
        ("The -80 freezer in room 214 will be", 14),
        ("serviced on Friday between 9 and 11 am.", 14),
        ("Please move samples to unit B before then.", 14)],
     "qa": [("Who is the memo from?", ["Dr. Elena Marsh", "Elena Marsh"], ["layout"]),
            ("Which room is the freezer in?", ["214", "room 214"], ["free_text"]),
            ("What is the subject of the memo?", ["Freezer maintenance"], ["layout"])]},
    {"doc": 9003, "ucsf": "hfdoc0003", "lines": [
        ("QUARTERLY REPORT  -  Q3 2021", 20), ("", 10),
        ("Region        Revenue", 16), ("North         1,250", 16),
        ("South           980", 16), ("East          1,430", 16),
        ("West            760", 16), ("", 8), ("Prepared by: Finance Office", 14)],
     "qa": [("What is the revenue of the East region?", ["1,430", "1430"], ["table/list"]),
            ("Which quarter does the report cover?", ["Q3 2021", "Q3"], ["layout"])]},
]


def _draw_document(lines: list[tuple[str, int]], size=(420, 300)) -> Image.Image:
    img = Image.new("L", size, 250)
    draw = ImageDraw.Draw(img)
    y = 14
    for text, font_size in lines:
        if text:
            draw.text((18, y), text, font=_font(font_size), fill=20)
        y += font_size + 8
    draw.rectangle([4, 4, size[0] - 5, size[1] - 5], outline=120)
    return img


def make_docvqa() -> None:
    rows = []
    qid = 70001
    for doc in DOCUMENTS:
        rel = f"images/{doc['ucsf']}_p1.png"
        _save_png(_draw_document(doc["lines"]), OUT / "docvqa" / rel)
        for question, answers, qtypes in doc["qa"]:
            rows.append({"questionId": str(qid), "question": question, "question_types": qtypes,
                         "image": {"path": rel}, "docId": doc["doc"], "ucsf_document_id": doc["ucsf"],
                         "ucsf_document_page_no": "1", "answers": answers, "data_split": "validation"})
            qid += 1
    _write_jsonl(OUT / "docvqa" / "validation.jsonl", rows)


# =============================================================================================
# TextVQA: scenes with text. Schema: image_id, question_id, question, question_tokens, image,
# image_width, image_height, flickr_original_url, flickr_300k_url, answers (10), image_classes,
# set_name, ocr_tokens.

def _scene_stop_sign() -> Image.Image:
    img = Image.new("RGB", (256, 256), (135, 180, 220))
    d = ImageDraw.Draw(img)
    d.rectangle([122, 150, 134, 256], fill=(110, 110, 110))
    r, cx, cy = 70, 128, 110
    pts = [(cx + r * np.cos(np.pi / 8 + k * np.pi / 4), cy + r * np.sin(np.pi / 8 + k * np.pi / 4)) for k in range(8)]
    d.polygon(pts, fill=(200, 20, 30), outline=(255, 255, 255))
    d.text((cx, cy), "STOP", font=_font(34), fill="white", anchor="mm")
    return img


def _scene_shop() -> Image.Image:
    img = Image.new("RGB", (320, 240), (190, 170, 140))
    d = ImageDraw.Draw(img)
    d.rectangle([20, 30, 300, 80], fill=(40, 70, 50))
    d.text((160, 55), "ROSA'S BAKERY", font=_font(26), fill=(240, 220, 160), anchor="mm")
    d.rectangle([40, 100, 150, 230], fill=(90, 60, 40))
    d.rectangle([180, 100, 290, 190], fill=(170, 210, 230))
    d.text((235, 145), "OPEN", font=_font(20), fill=(200, 30, 30), anchor="mm")
    return img


def _scene_bus() -> Image.Image:
    img = Image.new("RGB", (320, 200), (150, 150, 150))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([20, 30, 300, 170], radius=14, fill=(230, 190, 30))
    d.rectangle([40, 45, 280, 80], fill=(20, 20, 20))
    d.text((160, 62), "73  AIRPORT", font=_font(22), fill=(255, 160, 0), anchor="mm")
    for x in (70, 250):
        d.ellipse([x - 18, 152, x + 18, 188], fill=(30, 30, 30))
    return img


def _scene_bottle() -> Image.Image:
    img = Image.new("RGB", (200, 280), (245, 240, 230))
    d = ImageDraw.Draw(img)
    d.rectangle([80, 20, 120, 70], fill=(60, 120, 60))
    d.rounded_rectangle([55, 70, 145, 260], radius=16, fill=(90, 160, 90))
    d.rectangle([55, 130, 145, 200], fill=(250, 250, 235))
    d.text((100, 150), "LIME", font=_font(22), fill=(20, 90, 20), anchor="mm")
    d.text((100, 180), "500 ml", font=_font(16), fill=(60, 60, 60), anchor="mm")
    return img


def _scene_jersey() -> Image.Image:
    img = Image.new("RGB", (240, 260), (60, 140, 70))
    d = ImageDraw.Draw(img)
    d.polygon([(60, 40), (180, 40), (220, 90), (190, 110), (180, 240), (60, 240), (50, 110), (20, 90)], fill=(20, 40, 140))
    d.text((120, 140), "23", font=_font(64), fill="white", anchor="mm")
    d.text((120, 75), "KOVAC", font=_font(18), fill="white", anchor="mm")
    return img


SCENES = [
    ("hf0000a1", _scene_stop_sign, ["Street sign", "Traffic sign"], ["stop"], [
        ("What does the sign say?", ["stop"] * 9 + ["stop sign"])]),
    ("hf0000a2", _scene_shop, ["Building", "Bakery"], ["rosa's", "bakery", "open"], [
        ("What kind of shop is this?", ["bakery"] * 8 + ["bakery shop", "rosa's bakery"]),
        ("What does the red sign in the window say?", ["open"] * 10)]),
    ("hf0000a3", _scene_bus, ["Bus", "Vehicle"], ["73", "airport"], [
        ("What is the bus route number?", ["73"] * 9 + ["seventy three"]),
        ("Where is the bus going?", ["airport"] * 7 + ["the airport"] * 2 + ["73 airport"])]),
    ("hf0000a4", _scene_bottle, ["Bottle", "Drink"], ["lime", "500", "ml"], [
        ("What flavour is the drink?", ["lime"] * 10),
        ("How much does the bottle hold?", ["500 ml"] * 6 + ["500ml"] * 3 + ["500"])]),
    ("hf0000a5", _scene_jersey, ["Jersey", "Clothing"], ["kovac", "23"], [
        ("What number is on the jersey?", ["23"] * 10),
        ("What name is printed on the jersey?", ["kovac"] * 9 + ["kovak"])]),
]


def make_textvqa() -> None:
    rows = []
    qid = 50001
    for image_id, draw, classes, ocr, qas in SCENES:
        img = draw()
        rel = f"images/{image_id}.png"
        _save_png(img, OUT / "textvqa" / rel)
        for question, answers in qas:
            assert len(answers) == 10, question
            rows.append({"image_id": image_id, "question_id": qid, "question": question,
                         "question_tokens": question.rstrip("?").lower().split() + ["?"],
                         "image": {"path": rel}, "image_width": img.width, "image_height": img.height,
                         "flickr_original_url": "", "flickr_300k_url": "", "answers": answers,
                         "image_classes": classes, "set_name": "val", "ocr_tokens": ocr})
            qid += 1
    _write_jsonl(OUT / "textvqa" / "validation.jsonl", rows)


# =============================================================================================
# MMStar: simple scenes, multiple choice. Schema: index, question, image, answer, category,
# l2_category, meta_info {source, split, image_path}.

COLOURS = {"red": (210, 40, 40), "blue": (40, 80, 210), "green": (40, 160, 60), "yellow": (235, 200, 30)}


def _shape(d: ImageDraw.ImageDraw, kind: str, box: tuple[int, int, int, int], colour: str) -> None:
    x0, y0, x1, y1 = box
    if kind == "circle":
        d.ellipse(box, fill=COLOURS[colour])
    elif kind == "square":
        d.rectangle(box, fill=COLOURS[colour])
    elif kind == "triangle":
        d.polygon([((x0 + x1) // 2, y0), (x1, y1), (x0, y1)], fill=COLOURS[colour])


MMSTAR_SCENES = [
    {"shapes": [("circle", (30, 40, 110, 120), "red"), ("square", (140, 40, 220, 120), "blue")],
     "question": "What colour is the circle?\nOptions: A: blue, B: green, C: red, D: yellow",
     "answer": "C", "category": "coarse perception", "l2": "image style & quality"},
    {"shapes": [("triangle", (20, 60, 90, 130), "green"), ("triangle", (100, 60, 170, 130), "green"),
                ("triangle", (180, 60, 250, 130), "yellow")],
     "question": "How many triangles are in the image?\nOptions: A: 1, B: 2, C: 3, D: 4",
     "answer": "C", "category": "fine-grained perception", "l2": "object counting"},
    {"shapes": [("square", (40, 30, 100, 90), "yellow"), ("circle", (40, 130, 100, 190), "blue")],
     "question": "Which shape is above the other?\nOptions: A: the circle, B: the square, C: neither, D: they overlap",
     "answer": "B", "category": "instance reasoning", "l2": "single-instance reasoning"},
    {"shapes": [("circle", (20, 60, 80, 120), "red"), ("circle", (100, 60, 160, 120), "red"),
                ("square", (180, 60, 240, 120), "red")],
     "question": "Which shape appears exactly once?\nOptions: A: circle, B: triangle, C: square, D: none",
     "answer": "C", "category": "logical reasoning", "l2": "common reasoning"},
    {"shapes": [("square", (30, 30, 130, 130), "blue"), ("square", (160, 80, 210, 130), "blue")],
     "question": "The left square's side is how many times the right square's side?\nOptions: A: 1, B: 2, C: 3, D: 4",
     "answer": "B", "category": "math", "l2": "geometry"},
    {"shapes": [("triangle", (60, 30, 200, 170), "yellow")],
     "question": "What colour is the only shape?\nOptions: A: yellow, B: red, C: blue, D: green",
     "answer": "A", "category": "coarse perception", "l2": "image scene and topic"},
]


def make_mmstar() -> None:
    rows = []
    for i, scene in enumerate(MMSTAR_SCENES):
        img = Image.new("RGB", (260, 220), (245, 245, 245))
        d = ImageDraw.Draw(img)
        for kind, box, colour in scene["shapes"]:
            _shape(d, kind, box, colour)
        rel = f"images/mmstar_{i:03d}.png"
        _save_png(img, OUT / "mmstar" / rel)
        rows.append({"index": i, "question": scene["question"], "image": {"path": rel},
                     "answer": scene["answer"], "category": scene["category"], "l2_category": scene["l2"],
                     "meta_info": {"source": "halo-forge", "split": "val", "image_path": rel}})
    _write_jsonl(OUT / "mmstar" / "val.jsonl", rows)


# =============================================================================================
# Speech with espeak-ng. LibriSpeech schema: file, audio, text (upper case, no punctuation),
# speaker_id, chapter_id, id. Common Voice schema: client_id, path, audio, sentence, up_votes,
# down_votes, age, gender, accent, locale, segment, variant.

LIBRISPEECH = [
    ("en-us", "THE LANTERN SWUNG SLOWLY IN THE EVENING WIND"),
    ("en-gb", "SHE FOLDED THE MAP AND WALKED TOWARD THE HARBOUR"),
    ("en-us", "NOBODY HAD OPENED THE OLD LIBRARY DOOR FOR YEARS"),
    ("en-gb-x-rp", "THE RIVER WAS COLD AND CLEAR AFTER THE STORM"),
    ("en-us", "HE COUNTED SEVEN BOATS RESTING ON THE SAND"),
]

COMMONVOICE = [
    ("en-gb-scotland", "Please close the window before you leave.", "scottish", "male"),
    ("en-029", "The train to the city leaves at noon.", "caribbean", "male"),
    ("en-us+f3", "My neighbour grows tomatoes on her balcony.", "united states english", "female"),
    ("en-gb", "Could you turn the music down a little?", "england english", "male"),
]


def _espeak(text: str, voice: str) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed: apt-get install -y espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(wav), text], check=True)
        with wave.open(str(wav), "rb") as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    return _resample(x, rate, SAMPLE_RATE)


def _resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling through the FFT (no scipy dependency)."""
    n_out = int(round(len(x) * target / rate))
    spectrum = np.fft.rfft(x)
    keep = n_out // 2 + 1
    y = np.fft.irfft(spectrum[:keep], n=n_out) * (n_out / len(x))
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def _write_wav(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(samples.tobytes())


def make_librispeech() -> None:
    rows = []
    speaker, chapter = 9100, 42
    for i, (voice, text) in enumerate(LIBRISPEECH):
        uid = f"{speaker}-{chapter}-{i:04d}"
        rel = f"audio/{uid}.wav"
        _write_wav(OUT / "librispeech" / rel, _espeak(text.lower(), voice))
        rows.append({"file": rel, "audio": {"path": rel}, "text": text, "speaker_id": speaker,
                     "chapter_id": chapter, "id": uid})
    _write_jsonl(OUT / "librispeech" / "test.clean.jsonl", rows)


def make_commonvoice() -> None:
    rows = []
    for i, (voice, sentence, accent, gender) in enumerate(COMMONVOICE):
        rel = f"clips/halo_forge_en_{i:05d}.wav"
        _write_wav(OUT / "commonvoice" / rel, _espeak(sentence, voice))
        rows.append({"client_id": f"espeak-{voice}", "path": rel, "audio": {"path": rel},
                     "sentence": sentence, "up_votes": 2, "down_votes": 0, "age": "", "gender": gender,
                     "accent": accent, "locale": "en", "segment": "", "variant": ""})
    _write_jsonl(OUT / "commonvoice" / "test.jsonl", rows)


# =============================================================================================
# xLAM function calling: id, query, tools (JSON string), answers (JSON string).

def _tool(name: str, description: str, **params: tuple[str, str, object]) -> dict:
    return {"name": name, "description": description,
            "parameters": {k: ({"type": t, "description": d} | ({} if default is ... else {"default": default}))
                           for k, (t, d, default) in params.items()}}


WEATHER = _tool("get_weather", "Current weather for a city.",
                city=("str", "City name, e.g. 'Oslo'.", ...),
                units=("str, optional", "'metric' or 'imperial'.", "metric"))
CONVERT = _tool("convert_currency", "Convert an amount between two currencies.",
                amount=("float", "Amount to convert.", ...), source=("str", "ISO code to convert from.", ...),
                target=("str", "ISO code to convert to.", ...))
TIMEZONE = _tool("get_local_time", "Local time in an IANA time zone.", tz=("str", "IANA zone, e.g. 'Asia/Tokyo'.", ...))
SEARCH_BOOKS = _tool("search_books", "Search a library catalogue.",
                     query=("str", "Words to search for.", ...), author=("str, optional", "Author filter.", ""),
                     limit=("int, optional", "Maximum number of results.", 10))
PRIME = _tool("is_prime", "Check whether an integer is prime.", n=("int", "The integer.", ...))
BMI = _tool("bmi", "Body-mass index from weight and height.",
            weight_kg=("float", "Weight in kilograms.", ...), height_m=("float", "Height in metres.", ...))
ROUTE = _tool("plan_route", "Plan a trip between two places.",
              origin=("str", "Start address.", ...), destination=("str", "End address.", ...),
              mode=("str, optional", "'walk', 'bike', 'car' or 'transit'.", "car"))
REMIND = _tool("create_reminder", "Create a reminder.",
               text=("str", "What to remember.", ...), when=("str", "ISO 8601 date and time.", ...))
STOCK = _tool("get_stock_quote", "Latest price of a stock ticker.", symbol=("str", "Ticker symbol.", ...))
TRANSLATE = _tool("translate", "Translate text.", text=("str", "Text to translate.", ...),
                  target_lang=("str", "Target language code.", ...))


def _call(name: str, **arguments) -> dict:
    return {"name": name, "arguments": arguments}


XLAM = [
    ("What's the weather like in Lisbon right now?", [WEATHER, TIMEZONE], [_call("get_weather", city="Lisbon")]),
    ("Convert 250 euros to Japanese yen.", [CONVERT, STOCK], [_call("convert_currency", amount=250.0, source="EUR", target="JPY")]),
    ("What time is it in Tokyo and what's the weather in Osaka in imperial units?", [TIMEZONE, WEATHER],
     [_call("get_local_time", tz="Asia/Tokyo"), _call("get_weather", city="Osaka", units="imperial")]),
    ("Find at most 3 books about glaciers by Ada Pell.", [SEARCH_BOOKS],
     [_call("search_books", query="glaciers", author="Ada Pell", limit=3)]),
    ("Are 97 and 91 prime numbers?", [PRIME, BMI], [_call("is_prime", n=97), _call("is_prime", n=91)]),
    ("My weight is 70 kg and I'm 1.75 m tall; what's my BMI?", [BMI, PRIME],
     [_call("bmi", weight_kg=70.0, height_m=1.75)]),
    ("Plan a bike route from Central Station to the Botanical Garden.", [ROUTE, WEATHER],
     [_call("plan_route", origin="Central Station", destination="Botanical Garden", mode="bike")]),
    ("Remind me to water the plants on 2024-05-03 at 18:00.", [REMIND, TIMEZONE],
     [_call("create_reminder", text="water the plants", when="2024-05-03T18:00:00")]),
    ("Get quotes for AAPL and MSFT.", [STOCK, CONVERT], [_call("get_stock_quote", symbol="AAPL"), _call("get_stock_quote", symbol="MSFT")]),
    ("Translate 'good morning' into German and Italian.", [TRANSLATE],
     [_call("translate", text="good morning", target_lang="de"), _call("translate", text="good morning", target_lang="it")]),
]


def make_xlam() -> None:
    rows = [{"id": i, "query": q, "tools": json.dumps(tools), "answers": json.dumps(answers)}
            for i, (q, tools, answers) in enumerate(XLAM)]
    _write_jsonl(OUT / "xlam" / "train.jsonl", rows)


GROUPS = {
    "vlm": [make_chartqa, make_docvqa, make_textvqa, make_mmstar],
    "audio": [make_librispeech, make_commonvoice],
    "agentic": [make_xlam],
}


def main() -> None:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(GROUPS), action="append")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: next to this script)")
    args = parser.parse_args()
    OUT = args.out.resolve()
    for group in args.only or sorted(GROUPS):
        for make in GROUPS[group]:
            make()
            print(f"{make.__name__}: done")


if __name__ == "__main__":
    main()
