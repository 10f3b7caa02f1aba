"""How close review-corrected CSAT % and FCR % come to the truth on real conversations.

For each half of the labelled real set and n in (20, 40, 60): 100 random samples of n labels are
taken as a team's reviews (`powerpulse evaluate --labels SAMPLE`, whose `corrected` figures are
the app's and the API's), and the corrected figures are compared with the whole half's labels:
mean and median absolute error, and how often the 95 % interval holds the labelled figure.
Run by `scripts/bench reviews`; PP names the powerpulse binary.
"""
import json, os, random, subprocess, statistics, tempfile

PP = os.environ.get("PP", "target/release/powerpulse")
sub = os.path.join(tempfile.mkdtemp(), "sample.labels.json")
for half in "ab":
    exp, lab = f"eval/kenya-{half}.json", f"eval/kenya-{half}.labels.json"
    labels = json.load(open(lab))
    full = json.loads(subprocess.check_output([PP, "evaluate", exp, "--labels", lab, "--json"]))
    truth = {"csat": full["overall"]["csat"]["labelled"], "fcr": full["overall"]["fcr_percentage"]["labelled"]}
    apparent = {"csat": full["corrected"]["csat"]["apparent"], "fcr": full["corrected"]["fcr"]["apparent"]}
    for n in (20, 40, 60):
        errs = {"csat": [], "fcr": []}; cover = {"csat": 0, "fcr": 0}; runs = 0
        for seed in range(100):
            rnd = random.Random(seed)
            ids = rnd.sample(sorted(labels), n)
            json.dump({i: labels[i] for i in ids}, open(sub, "w"))
            e = json.loads(subprocess.check_output([PP, "evaluate", exp, "--labels", sub, "--json"]))["corrected"]
            runs += 1
            for k in ("csat", "fcr"):
                c = e[k]
                if c is None: continue
                errs[k].append(abs(c["value"] - truth[k]))
                cover[k] += c["low"] <= truth[k] <= c["high"]
        for k in ("csat", "fcr"):
            print(f"half {half} n={n} {k}: labelled {truth[k]:.1f}, analyzer {apparent[k]:.1f} (error {abs(apparent[k]-truth[k]):.1f}); corrected mean abs error {statistics.mean(errs[k]):.1f}, median {statistics.median(errs[k]):.1f}, 95% interval covers the truth in {cover[k]}/{len(errs[k])}")
