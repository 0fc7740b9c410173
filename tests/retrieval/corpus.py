"""A small hand-built corpus with keyword queries (exact identifiers, where vectors
blur near-identical codes) and paraphrases (no word shared with the answer, where
full-text search has nothing to go on). Each query is labelled with its answer."""

from __future__ import annotations

DOCS = {
    "sleep.txt": "time.sleep(secs) suspends execution of the calling thread for the given number of seconds.",
    "cats.txt": "Cats are small domesticated carnivores; they purr, groom themselves and hunt mice.",
    "dogs.txt": "Dogs are loyal companions that bark and need daily walks outside.",
    "e4471.txt": "Error code E4471 means the disk quota was exceeded; free some space and retry.",
    "e4472.txt": "Error code E4472 means the network interface is down; check the cable.",
    "e4473.txt": "Error code E4473 means the certificate has expired; renew it.",
    "xq9000.txt": "Part number XQ-9000 is the replacement fan for the model 7 server chassis.",
    "xq9001.txt": "Part number XQ-9001 is the replacement power supply for the model 7 server chassis.",
    "paris.txt": "Paris is the capital and most populous city of France.",
    "tokyo.txt": "Tokyo is the capital of Japan, a vast metropolis.",
    "bread.txt": "To bake bread, mix flour, water, yeast and salt, knead the dough, let it rise, then bake it.",
    "oil.txt": "Change your car's engine oil every 10,000 kilometres.",
    "pet.txt": "PET bottles are made of polyethylene terephthalate, a recyclable plastic.",
}

KEYWORD_QUERIES = {
    "E4471": "e4471.txt",
    "what does E4472 mean": "e4472.txt",
    "E4473": "e4473.txt",
    "XQ-9001": "xq9001.txt",
    "XQ-9000 part": "xq9000.txt",
}

PARAPHRASE_QUERIES = {
    "how can my program pause for a while": "sleep.txt",
    "which animal meows and catches rodents": "cats.txt",
    "how do I make a loaf": "bread.txt",
    "when should the motor lubricant be replaced": "oil.txt",
    "largest town in the French republic": "paris.txt",
}
