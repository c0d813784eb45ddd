"""The ranker: a model trained from analysts' decisions that scores every stored listing.

features.py  what a listing looks like to the model (folded text n-grams, keyword matches, language, site...)
topics.py    topics of the undecided listings' words: what the model learns from the listings nobody decided
model.py     training, scoring, explanations; the model as plain data (JSON + arrays), never a pickle
scorer.py    one listing at a time from a model's data, without scikit-learn: what the crawl pipeline runs
policy.py    how many of the items handed to analysts are the model's uncertain ones (active picks)
metrics.py   average precision, precision at a recall, recall in the top share, Wilson intervals
offline.py   `wildwatch ranker evaluate`: learning curves on any labelled CSV, same training code
registry.py  the `ranker_models` table: save, list, activate (audited), load the active model, re-score the queue
loop.py      the monthly champion/challenger round run by the `wildwatch_ranker` DAG
audit.py     the blind audit sample of unqueued listings and the missed-offer estimate built on it
"""
