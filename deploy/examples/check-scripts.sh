#!/usr/bin/env bash
# check-scripts.sh: dev tool for the demo estate in this directory.
#
#   1. parses every YAML file under tenants/ and teams/ and checks every object has the fields the
#      estate promises (tenant labels and environment.yaml, Job shape, annotations, special cases);
#   2. checks that every Job script stays inside the shell subset the embedded cluster interprets
#      (no pipes, no $(cmd) or backticks, no redirection other than >&2 / 1>&2 / 2>&1, no here-docs,
#      no [[ ]], no functions or subshells, no command other than the allowed builtins);
#   3. runs every Job script, for every tenant x every operation the Job declares, under `dash` and
#      under `busybox sh` (when installed), exactly like the container does (`sh -c SCRIPT`), with
#      the five LIFECYCLE_* variables set and environment.yaml / changeset.yaml written to a temp
#      directory, PATH holding only a no-op `sleep` shim (sleeps are instant but added up to give
#      the simulated run time) and a `cat` shim: any other program is "not found" and reported;
#   4. reports exit codes and requires exactly one failing combination: the lineage quota failure.
#
# Needs: bash, python3 with PyYAML (pip install pyyaml), dash (apt-get install -y dash);
# busybox is optional (apt-get install -y busybox).  Usage: deploy/examples/check-scripts.sh [-v]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script="$(mktemp)"
trap 'rm -f "$script"' EXIT
cat >"$script" <<'PYTHON'
import concurrent.futures
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

try:
    import yaml
except ImportError:
    sys.exit("check-scripts: PyYAML is missing (pip install pyyaml)")

HERE = sys.argv[1]
VERBOSE = "-v" in sys.argv[2:]
ANNOTATION = "collibra.com/tenant.lifecycle"
DESCRIPTION = "tlc.dev/description"
OPERATIONS = ["lifecycle.upsert", "lifecycle.migrate-out", "lifecycle.migrate-in", "team.operation"]
TEAMS = ["identity", "catalog", "search", "lineage", "workflows", "storage", "notifications", "billing"]
REGIONS = ["eu-west", "us-east"]
PLANS = {"enterprise", "business", "trial"}
# The one expected failure: (job namespace/name, tenant name, operation, exit code, stderr text).
EXPECTED_FAILURE = ("lineage/lineage-graph", "globex-prod", "lifecycle.upsert", 2, "exceeds the 2,000,000-node quota")
SLOW_JOB = "workflows/workflows-drain"
LINES = (8, 40)            # output lines per run (stdout + stderr)
SECONDS = (3.0, 10.0)      # simulated run time per run (sum of sleeps)
SLOW_SECONDS = (25.0, 40.0)
SLEEP_RANGE = (0.2, 2.0)   # each single sleep
OP_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")

problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def get(obj, *path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def parse_annotation(value):
    """The console's rule: comma-separated names, whitespace ignored; empty/odd names are a problem."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        return [], "annotation value is not a string"
    names = [n.strip() for n in value.split(",")]
    if not value.strip() or any(not n for n in names):
        return [], f"empty operation name in {value!r}"
    bad = [n for n in names if not OP_NAME.match(n)]
    if bad:
        return [], f"malformed operation name(s) {bad!r} in {value!r}"
    return names, None


# ----------------------------------------------------------------------------------------------
# 1. YAML structure
# ----------------------------------------------------------------------------------------------
def load(path):
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        problem(os.path.relpath(path, HERE), f"YAML does not parse: {e}")
        return []


tenants = []  # dicts: name, id, region, plan, services, cm, env_text
for region in REGIONS:
    rel = f"tenants/{region}.yaml"
    docs = load(os.path.join(HERE, rel))
    kinds = [d.get("kind") for d in docs]
    if kinds.count("Namespace") != 1 or get([d for d in docs if d.get("kind") == "Namespace"][0] if "Namespace" in kinds else {}, "metadata", "name") != "tenants":
        problem(rel, "expected exactly one Namespace `tenants`")
    cms = [d for d in docs if d.get("kind") == "ConfigMap"]
    if len(cms) != 6 or len(docs) != 7:
        problem(rel, f"expected the Namespace + 6 ConfigMaps, found kinds {kinds}")
    for cm in cms:
        name = get(cm, "metadata", "name") or "?"
        where = f"{rel}:{name}"
        if cm.get("apiVersion") != "v1":
            problem(where, "apiVersion must be v1")
        if get(cm, "metadata", "namespace") != "tenants":
            problem(where, "namespace must be `tenants`")
        labels = get(cm, "metadata", "labels") or {}
        if labels.get("tlc.dev/tenant") != "true":
            problem(where, 'label tlc.dev/tenant must be the string "true"')
        tid = labels.get("tlc.dev/tenant-id")
        try:
            if not isinstance(tid, str) or tid != tid.lower() or uuid.UUID(tid).version != 4 or str(uuid.UUID(tid)) != tid:
                raise ValueError
        except ValueError:
            problem(where, f"label tlc.dev/tenant-id {tid!r} is not a lowercase UUIDv4 string")
        if labels.get("tlc.dev/region") != region:
            problem(where, f"label tlc.dev/region must be {region}")
        env_text = get(cm, "data", "environment.yaml")
        if not isinstance(env_text, str):
            problem(where, "data.environment.yaml missing")
            continue
        try:
            env = yaml.safe_load(env_text)
        except yaml.YAMLError as e:
            problem(where, f"environment.yaml does not parse: {e}")
            continue
        for key in ["id", "name", "displayName", "region", "plan", "owner", "services", "settings"]:
            if key not in env:
                problem(where, f"environment.yaml lacks `{key}`")
        if env.get("id") != tid:
            problem(where, "environment.yaml id differs from the tenant-id label")
        if name != f"tenant-{env.get('name')}":
            problem(where, "ConfigMap name must be tenant-<environment name>")
        if env.get("region") != region:
            problem(where, "environment.yaml region differs from the file's region")
        if env.get("plan") not in PLANS:
            problem(where, f"plan {env.get('plan')!r} not in {sorted(PLANS)}")
        services = env.get("services")
        if not isinstance(services, list) or not services or not set(services) <= set(TEAMS) or len(set(services)) != len(services):
            problem(where, f"services must be a non-empty list of distinct team names, got {services!r}")
            services = []
        if not isinstance(env.get("settings"), dict) or len(env.get("settings")) < 3:
            problem(where, "settings must be a map with a few keys")
        tenants.append(dict(name=env.get("name"), id=tid, region=region, plan=env.get("plan"),
                            services=services, env_text=env_text))

if len({t["id"] for t in tenants}) != len(tenants) or len({t["name"] for t in tenants}) != len(tenants):
    problem("tenants", "tenant ids and names must be unique")
mixes = [tuple(sorted(t["services"])) for t in tenants]
if len(set(mixes)) != len(mixes):
    problem("tenants", "every tenant must use a different mix of services")
if len(tenants) != 12:
    problem("tenants", f"expected 12 tenants, found {len(tenants)}")

jobs = []  # dicts: key, namespace, name, script, suspended, annotation, ops, ann_problem
team_files = sorted(f[:-5] for f in os.listdir(os.path.join(HERE, "teams")) if f.endswith(".yaml"))
if team_files != sorted(TEAMS):
    problem("teams", f"expected one file per team {sorted(TEAMS)}, found {team_files}")
for team in team_files:
    rel = f"teams/{team}.yaml"
    docs = load(os.path.join(HERE, rel))
    namespaces = [d for d in docs if d.get("kind") == "Namespace"]
    if len(namespaces) != 1 or get(namespaces[0], "metadata", "name") != team or namespaces[0].get("apiVersion") != "v1":
        problem(rel, f"expected exactly one Namespace `{team}`")
    others = [d.get("kind") for d in docs if d.get("kind") not in ("Namespace", "Job")]
    if others:
        problem(rel, f"only the Namespace and Jobs belong here, found {others}")
    for job in [d for d in docs if d.get("kind") == "Job"]:
        name = get(job, "metadata", "name") or "?"
        where = f"{rel}:{name}"
        if job.get("apiVersion") != "batch/v1":
            problem(where, "apiVersion must be batch/v1")
        if get(job, "metadata", "namespace") != team:
            problem(where, f"namespace must be {team}")
        labels = get(job, "metadata", "labels") or {}
        if labels.get("app.kubernetes.io/part-of") != team or labels.get("app.kubernetes.io/component") != "lifecycle":
            problem(where, "labels app.kubernetes.io/part-of=<team> and app.kubernetes.io/component=lifecycle required")
        annotations = get(job, "metadata", "annotations") or {}
        if not isinstance(annotations.get(DESCRIPTION), str) or not annotations.get(DESCRIPTION).strip():
            problem(where, f"annotation {DESCRIPTION} required")
        spec = job.get("spec") or {}
        if not isinstance(spec.get("suspend"), bool):
            problem(where, "spec.suspend must be a boolean")
        if spec.get("backoffLimit") != 0:
            problem(where, "spec.backoffLimit must be 0")
        deadline = spec.get("activeDeadlineSeconds")
        if not isinstance(deadline, int) or not 60 <= deadline <= 3600:
            problem(where, "spec.activeDeadlineSeconds must be a sensible integer (60..3600)")
        pod = get(spec, "template", "spec") or {}
        if pod.get("restartPolicy") != "Never":
            problem(where, "template restartPolicy must be Never")
        containers = pod.get("containers") or []
        script = None
        if len(containers) != 1:
            problem(where, "exactly one container expected")
        else:
            c = containers[0]
            if c.get("image") != "busybox:1.36":
                problem(where, "image must be busybox:1.36")
            if c.get("command") != ["sh", "-c"]:
                problem(where, 'command must be ["sh", "-c"]')
            args = c.get("args")
            if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], str):
                problem(where, "args must be a single script string")
            else:
                script = args[0]
        ops, ann_problem = parse_annotation(annotations.get(ANNOTATION))
        jobs.append(dict(key=f"{team}/{name}", namespace=team, name=name, script=script,
                         suspended=spec.get("suspend") is True, annotation=annotations.get(ANNOTATION),
                         ops=ops, ann_problem=ann_problem))

# Known fields only (catches typos such as `restartpolicy` that a real API server would reject),
# Kubernetes name and label syntax.
SHAPE = {
    "Namespace": {"": {"apiVersion", "kind", "metadata"}},
    "ConfigMap": {"": {"apiVersion", "kind", "metadata", "data"}},
    "Job": {"": {"apiVersion", "kind", "metadata", "spec"},
            "spec": {"suspend", "backoffLimit", "activeDeadlineSeconds", "template"},
            "spec.template": {"metadata", "spec"},
            "spec.template.metadata": {"labels"},
            "spec.template.spec": {"restartPolicy", "containers"},
            "spec.template.spec.containers[]": {"name", "image", "command", "args"}},
}
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
for rel in [f"tenants/{r}.yaml" for r in REGIONS] + [f"teams/{t}.yaml" for t in team_files]:
    for doc in load(os.path.join(HERE, rel)):
        kind = doc.get("kind")
        where = f"{rel}:{kind}/{get(doc, 'metadata', 'name')}"
        for path, allowed in SHAPE.get(kind, {"": set()}).items():
            nodes = [doc]
            for part in [p for p in path.split(".") if p]:
                if part.endswith("[]"):
                    nodes = [x for n in nodes for x in (get(n, part[:-2]) or [])]
                else:
                    nodes = [get(n, part) for n in nodes]
            for node in nodes:
                extra = set(node or {}) - allowed if isinstance(node, dict) else set()
                if extra:
                    problem(where, f"unexpected field(s) {sorted(extra)} under {path or 'the top level'}")
        meta = doc.get("metadata") or {}
        if set(meta) - {"name", "namespace", "labels", "annotations"}:
            problem(where, f"unexpected metadata field(s) {sorted(set(meta) - {'name', 'namespace', 'labels', 'annotations'})}")
        if not DNS_LABEL.match(str(meta.get("name", ""))):
            problem(where, "metadata.name is not a valid DNS label")
        for labels in [meta.get("labels") or {}, get(doc, "spec", "template", "metadata", "labels") or {}]:
            for k, v in labels.items():
                if not LABEL_KEY.match(k) or not isinstance(v, str) or not LABEL_VALUE.match(v):
                    problem(where, f"invalid label {k}={v!r} (values must be strings of label syntax)")
        for k, v in (meta.get("annotations") or {}).items():
            if not isinstance(v, str):
                problem(where, f"annotation {k} must be a string")

# Special cases and coverage.
def only(pred, what, where_expected):
    found = [j["key"] for j in jobs if pred(j)]
    if len(found) != 1 or found[0].split("/")[0] != where_expected:
        problem("special cases", f"expected exactly one {what} in `{where_expected}`, found {found}")
    return found

unsuspended = only(lambda j: not j["suspended"], "Job with suspend: false", "notifications")
for j in jobs:
    if not j["suspended"] and j["annotation"] is None:
        problem(j["key"], "the unsuspended Job must carry a lifecycle annotation")
malformed = only(lambda j: j["ann_problem"] is not None, "malformed lifecycle annotation", "billing")
unannotated = only(lambda j: j["annotation"] is None, "Job without lifecycle annotation", "search")
only(lambda j: j["key"] == EXPECTED_FAILURE[0], "tenant-specific failing Job", "lineage")
only(lambda j: j["key"] == SLOW_JOB, "slow Job", "workflows")
valid = [j for j in jobs if j["suspended"] and j["ops"]]
coverage = {op: [j["key"] for j in valid if op in j["ops"]] for op in OPERATIONS}
for op, keys in coverage.items():
    if len(keys) < 3:
        problem("coverage", f"{op} is handled by {len(keys)} valid Job(s), need >= 3")
lifecycle_jobs = [j for j in jobs if j["annotation"] is not None]
failing_tenant = next((t for t in tenants if t["name"] == EXPECTED_FAILURE[1]), None)
if failing_tenant is None or failing_tenant["region"] != "eu-west" or "lineage" not in failing_tenant["services"]:
    problem("special cases", f"the failing tenant {EXPECTED_FAILURE[1]} must exist, be in eu-west and use lineage")

# ----------------------------------------------------------------------------------------------
# 2. Shell subset, statically
# ----------------------------------------------------------------------------------------------
ALLOWED_COMMANDS = {"echo", "printf", "sleep", "exit", "cat", "true", "false", ":", "test", "[", "set", "export"}
KEYWORDS_BEFORE_COMMAND = {"if", "then", "elif", "else", "while", "until", "do", "!", "{", "}"}
TERMINATORS = {"fi", "done", "esac", ";;"}


def tokenize(line):
    """Split one line into words and operators; quoted text becomes a single word. Returns None on
    an unterminated quote (the subset has no multi-line strings)."""
    words, cur, i, quoted = [], "", 0, False
    while i < len(line):
        ch = line[i]
        if ch in "'\"":
            end = line.find(ch, i + 1)
            while ch == '"' and end != -1 and line[end - 1] == "\\":
                end = line.find(ch, end + 1)
            if end == -1:
                return None
            cur += line[i:end + 1]
            quoted = True
            i = end + 1
            continue
        if ch == "#" and not cur:
            break
        if line.startswith("$((", i):
            end = line.find("))", i)
            if end == -1:
                return None
            cur += line[i:end + 2]
            i = end + 2
            continue
        if ch in " \t":
            if cur:
                words.append(cur)
            cur, quoted = "", False
            i += 1
            continue
        for op in (";;", "&&", "||", ";"):
            if line.startswith(op, i):
                if cur:
                    words.append(cur)
                words.append(op)
                cur = ""
                i += len(op)
                break
        else:
            cur += ch
            i += 1
    if cur:
        words.append(cur)
    return words


def unquoted(text):
    """The script with quoted strings blanked out (for operator checks)."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            end = text.find(ch, i + 1)
            while ch == '"' and end != -1 and text[end - 1] == "\\":
                end = text.find(ch, end + 1)
            if end == -1:
                end = len(text) - 1
            out.append(ch + "_" * (end - i - 1) + ch)
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def subset_violations(script):
    found = []
    # The raw greps of the brief, on the whole text (strings included: printed text avoids these too).
    raw = [
        (r"(?<!\|)\|(?!\|)", "pipe `|`"),
        (r"\$\((?!\()", "command substitution `$(`"),
        (r"`", "backtick"),
        (r"<", "input redirection / here-doc `<`"),
        (r"\[\[", "`[[ ]]`"),
    ]
    for n, line in enumerate(script.splitlines(), 1):
        for pattern, what in raw:
            if re.search(pattern, line):
                found.append(f"line {n}: {what}: {line.strip()}")
        stripped = re.sub(r"1>&2|2>&1|>&2", "", line)
        if ">" in stripped:
            found.append(f"line {n}: redirection other than >&2/2>&1: {line.strip()}")
    # Operators outside quotes.
    bare = unquoted(script)
    for n, line in enumerate(bare.splitlines(), 1):
        code = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
        if re.search(r"(?<![&>])&(?![&2])", code):
            found.append(f"line {n}: background `&`")
        if re.search(r"\b[A-Za-z_][A-Za-z0-9_]*\s*\(\s*\)", code) or re.search(r"^\s*function\b", code):
            found.append(f"line {n}: function definition")
        if re.search(r"(^|[;&|]\s*|\b(then|do|else)\s+)\(", code):
            found.append(f"line {n}: subshell `( )`")
        if re.search(r"\$\{[^}]*[#%/^,]", code) or re.search(r"\$\{[^}]*:[0-9]", code):
            found.append(f"line {n}: parameter expansion outside ${{VAR}} / ${{VAR:-default}}")
    # Every simple command must be an allowed builtin.
    in_case_head = False
    for n, line in enumerate(script.splitlines(), 1):
        words = tokenize(line)
        if words is None:
            found.append(f"line {n}: unterminated quote (multi-line strings are not in the subset)")
            continue
        segments, seg = [], []
        for w in words:
            if w in (";", "&&", "||", ";;"):
                segments.append(seg)
                seg = []
            else:
                seg.append(w)
        segments.append(seg)
        for seg in segments:
            while seg and seg[0] in KEYWORDS_BEFORE_COMMAND:
                seg = seg[1:]
            if not seg or seg[0] in TERMINATORS:
                continue
            if seg[0] == "case":
                if len(seg) != 3 or seg[2] != "in":
                    found.append(f"line {n}: case must be `case WORD in` on one line")
                continue
            if seg[0] == "for":
                if len(seg) < 3 or seg[2] != "in":
                    found.append(f"line {n}: for must be `for X in ...`")
                continue
            if re.match(r"^[^()\s]+\)$", seg[0]):   # case pattern `pat)` (literal or *)
                pat = seg[0][:-1]
                if not (pat == "*" or re.match(r'^[A-Za-z0-9._:/"-]+$', pat)):
                    found.append(f"line {n}: case pattern {pat!r} is not literal or *")
                seg = seg[1:]
                if not seg or seg[0] in TERMINATORS:
                    continue
            while seg and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", seg[0]):
                seg = seg[1:]                          # assignments
            if not seg:
                continue
            command = seg[0]
            if command not in ALLOWED_COMMANDS:
                found.append(f"line {n}: command {command!r} is not in the subset")
            if command == "cat":
                args = seg[1:]
                if not args or any(a not in ('"$LIFECYCLE_TENANT_ENV_FILE"', '"$LIFECYCLE_CHANGESET_FILE"') for a in args):
                    found.append(f"line {n}: cat must only read \"$LIFECYCLE_TENANT_ENV_FILE\" / \"$LIFECYCLE_CHANGESET_FILE\"")
            if command == "sleep":
                if len(seg) != 2 or not re.match(r"^[0-9]+(\.[0-9]+)?$", seg[1]):
                    found.append(f"line {n}: sleep takes one literal number of seconds")
            if command == "set" and any(not re.match(r"^[-+][eu]+$", a) for a in seg[1:]):
                found.append(f"line {n}: only set -e / set -u")
    if re.search(r"/mount|/environment\.yaml|/changeset\.yaml", script):
        found.append("hard-coded path of a mounted file (use the *_FILE variables)")
    return found


for j in jobs:
    if j["script"] is None:
        continue
    for v in subset_violations(j["script"]):
        problem(j["key"], f"outside the shell subset: {v}")
    if j["annotation"] is not None:
        for var in ["LIFECYCLE_TENANT_ENV_ID", "LIFECYCLE_OPERATION_NAME", "LIFECYCLE_BATCH_OPERATION_ID"]:
            if var not in j["script"]:
                problem(j["key"], f"script never uses ${var}")
        if "cat \"$LIFECYCLE_TENANT_ENV_FILE\"" not in j["script"] and "cat \"$LIFECYCLE_CHANGESET_FILE\"" not in j["script"]:
            problem(j["key"], "script cats neither mounted file")
        if "case \"$LIFECYCLE_OPERATION_NAME\" in" not in j["script"]:
            problem(j["key"], "script does not branch on the operation with case")
        if ">&2" not in j["script"]:
            problem(j["key"], "script never writes an error to stderr")
all_scripts = "\n".join(j["script"] or "" for j in jobs)
for needle in ['cat "$LIFECYCLE_TENANT_ENV_FILE"', 'cat "$LIFECYCLE_CHANGESET_FILE"']:
    if needle not in all_scripts:
        problem("scripts", f"no script does {needle}")

# ----------------------------------------------------------------------------------------------
# 3. Run everything
# ----------------------------------------------------------------------------------------------
shells = []
if shutil.which("dash"):
    shells.append(("dash", [shutil.which("dash")]))
else:
    problem("shells", "dash is not installed (apt-get install -y dash)")
if shutil.which("busybox"):
    shells.append(("busybox", [shutil.which("busybox"), "sh"]))
cat_bin = shutil.which("cat")

work = tempfile.mkdtemp(prefix="tlc-check-")
shim = os.path.join(work, "bin")
os.makedirs(shim)
with open(os.path.join(shim, "sleep"), "w") as f:
    # Instant sleep that logs its argument; the log is summed into the simulated duration.
    f.write('#!/bin/sh\necho "$*" >>"$TLC_CHECK_SLEEP_LOG"\n')
with open(os.path.join(shim, "cat"), "w") as f:
    f.write(f'#!/bin/sh\nexec {cat_bin} "$@"\n')
for f in ("sleep", "cat"):
    os.chmod(os.path.join(shim, f), 0o755)


def uuid7():
    ms = int(time.time() * 1000)
    value = (ms << 80) | (0x7 << 76) | (secrets.randbits(12) << 64) | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def changeset(tenant, op, batch):
    lines = [f"batchOperationId: {batch}", f"operation: {op}", f"tenantEnvId: {tenant['id']}",
             "requestedBy: oncall@platform.example", 'requestedAt: "2024-11-21T16:00:00Z"']
    if op.startswith("lifecycle.migrate"):
        lines += ["parameters:", f"  sourceRegion: {tenant['region']}",
                  f"  targetRegion: {'us-east' if tenant['region'] == 'eu-west' else 'eu-west'}"]
    else:
        lines += ["parameters: {}"]
    return "\n".join(lines) + "\n"


def run(shell, job, tenant, op, n):
    """One combination. tenant None = bare run (no tenant context at all)."""
    sleep_log = os.path.join(work, f"sleep-{n}.log")
    env = {"PATH": shim, "TLC_CHECK_SLEEP_LOG": sleep_log, "HOME": work, "LANG": "C"}
    if tenant is not None:
        # A directory with a space in it: scripts must quote "$LIFECYCLE_*_FILE".
        ctx = os.path.join(work, f"run {n}", "tenant context")
        os.makedirs(ctx)
        batch = uuid7()
        with open(os.path.join(ctx, "environment.yaml"), "w") as f:
            f.write(tenant["env_text"])
        with open(os.path.join(ctx, "changeset.yaml"), "w") as f:
            f.write(changeset(tenant, op, batch))
        env.update(LIFECYCLE_TENANT_ENV_ID=tenant["id"], LIFECYCLE_BATCH_OPERATION_ID=batch,
                   LIFECYCLE_OPERATION_NAME=op,
                   LIFECYCLE_TENANT_ENV_FILE=os.path.join(ctx, "environment.yaml"),
                   LIFECYCLE_CHANGESET_FILE=os.path.join(ctx, "changeset.yaml"))
    p = subprocess.run(shell[1] + ["-c", job["script"]], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60, cwd=work)
    sleeps = []
    if os.path.exists(sleep_log):
        with open(sleep_log) as f:
            sleeps = [s.strip() for s in f if s.strip()]
    out = p.stdout.replace(env.get("LIFECYCLE_BATCH_OPERATION_ID", "\0"), "<batch>")
    err = p.stderr.replace(env.get("LIFECYCLE_BATCH_OPERATION_ID", "\0"), "<batch>")
    return dict(shell=shell[0], job=job["key"], tenant=tenant["name"] if tenant else None, op=op,
                code=p.returncode, stdout=out, stderr=err, sleeps=sleeps)


tasks = []
n = 0
for job in jobs:
    if job["script"] is None:
        continue
    if job["annotation"] is None:
        ops_to_run = []
    else:
        # Run what the Job declares; for a malformed annotation, what it evidently meant.
        ops_to_run = job["ops"] or [o.strip() for o in re.split(r"[,;]", job["annotation"]) if o.strip()]
    for shell in shells:
        for tenant in tenants:
            for op in ops_to_run:
                n += 1
                tasks.append((shell, job, tenant, op, n))
        n += 1
        tasks.append((shell, job, None, None, n))                      # bare run
        if job["annotation"] is not None:
            n += 1
            tasks.append((shell, job, tenants[0], "lifecycle.unknown-op", n))  # undeclared op

started = time.time()
with concurrent.futures.ThreadPoolExecutor(max_workers=max(4, (os.cpu_count() or 4) * 2)) as pool:
    results = list(pool.map(lambda t: run(*t), tasks))
elapsed = time.time() - started
shutil.rmtree(work, ignore_errors=True)

matrix = [r for r in results if r["tenant"] is not None and r["op"] != "lifecycle.unknown-op"]
failures = []
per_job = {}
for r in results:
    where = f"[{r['shell']}] {r['job']} x {r['tenant'] or '(no tenant context)'} x {r['op'] or '-'}"
    if "not found" in r["stderr"]:
        problem(where, f"ran a program that is not there: {r['stderr'].strip().splitlines()[-1]}")
    bad_sleeps = [s for s in r["sleeps"] if not re.match(r"^[0-9.]+$", s) or not SLEEP_RANGE[0] <= float(s) <= SLEEP_RANGE[1]]
    if bad_sleeps:
        problem(where, f"sleep outside {SLEEP_RANGE[0]}..{SLEEP_RANGE[1]} s: {bad_sleeps}")
    seconds = sum(float(s) for s in r["sleeps"] if re.match(r"^[0-9.]+$", s))
    r["seconds"] = seconds
    r["lines"] = len(r["stdout"].splitlines()) + len(r["stderr"].splitlines())
    if r["op"] == "lifecycle.unknown-op":
        if r["code"] == 0 or not r["stderr"].strip():
            problem(where, "an undeclared operation must fail with a message on stderr")
        continue
    if r["tenant"] is None:
        job = next(j for j in jobs if j["key"] == r["job"])
        if job["annotation"] is None:
            if r["code"] != 0:
                problem(where, f"the non-lifecycle Job must succeed on its own, exit {r['code']}")
        elif r["code"] != 64 or "no tenant context" not in r["stderr"]:
            problem(where, f"without tenant context the script must refuse (exit 64 + stderr), got exit {r['code']}")
        continue
    stats = per_job.setdefault(r["job"], dict(runs=0, ok=0, failed=0, seconds=[], lines=[]))
    stats["runs"] += 1
    stats["seconds"].append(seconds)
    stats["lines"].append(r["lines"])
    if r["code"] == 0:
        stats["ok"] += 1
        if r["stderr"].strip() and not all(l.startswith(("[WARNING]", "Warning:", "warning:")) for l in r["stderr"].splitlines() if l.strip()):
            problem(where, f"succeeded but printed non-warning stderr: {r['stderr'].strip()}")
    else:
        stats["failed"] += 1
        failures.append(r)
        if not r["stderr"].strip():
            problem(where, f"failed (exit {r['code']}) without an error on stderr")
    lo, hi = SLOW_SECONDS if r["job"] == SLOW_JOB else SECONDS
    if not lo <= seconds <= hi:
        problem(where, f"simulated run time {seconds:.1f} s outside {lo:.0f}..{hi:.0f} s")
    if not LINES[0] <= r["lines"] <= LINES[1]:
        problem(where, f"{r['lines']} output lines, outside {LINES[0]}..{LINES[1]}")

# dash and busybox must print the same thing.
if len(shells) > 1:
    by_key = {}
    for r in results:
        by_key.setdefault((r["job"], r["tenant"], r["op"]), {})[r["shell"]] = r
    for key, per_shell in by_key.items():
        a, b = per_shell.get("dash"), per_shell.get("busybox")
        if a and b and (a["code"], a["stdout"], a["stderr"]) != (b["code"], b["stdout"], b["stderr"]):
            problem(f"{key}", "dash and busybox sh disagree (exit code or output)")

# Exactly one failing combination (counted once per shell).
failing = sorted({(r["job"], r["tenant"], r["op"], r["code"]) for r in failures})
expected = (EXPECTED_FAILURE[0], EXPECTED_FAILURE[1], EXPECTED_FAILURE[2], EXPECTED_FAILURE[3])
if failing != [expected]:
    problem("failures", f"expected exactly one failing combination {expected}, got {failing}")
for r in failures:
    if r["job"] == EXPECTED_FAILURE[0] and EXPECTED_FAILURE[4] not in r["stderr"]:
        problem(r["job"], f"the quota failure must say {EXPECTED_FAILURE[4]!r} on stderr")

# ----------------------------------------------------------------------------------------------
# 4. Report
# ----------------------------------------------------------------------------------------------
print(f"demo estate: {len(tenants)} tenants, {len(team_files)} team namespaces, {len(jobs)} Jobs "
      f"({len(valid)} runnable lifecycle Jobs)")
print(f"shells: {', '.join(s[0] for s in shells)}; {len(results)} script runs in {elapsed:.1f} s "
      f"(sleeps simulated)")
print()
print("tenants:")
for t in tenants:
    mark = "  <- fails lineage-graph on lifecycle.upsert" if t["name"] == EXPECTED_FAILURE[1] else ""
    print(f"  {t['name']:<16} {t['id']}  {t['region']:<8} {t['plan']:<10} {','.join(t['services'])}{mark}")
print()
print("coverage (valid Jobs per operation):")
for op, keys in coverage.items():
    print(f"  {op:<22} {len(keys):>2}  {', '.join(keys)}")
print()
print("flagged by design (the console must report these, never run them):")
for j in jobs:
    if not j["suspended"]:
        print(f"  {j['key']:<40} not suspended (annotation {j['annotation']!r})")
    if j["ann_problem"]:
        print(f"  {j['key']:<40} malformed annotation {j['annotation']!r}")
    if j["annotation"] is None:
        print(f"  {j['key']:<40} no lifecycle annotation: discovery must ignore it")
print()
print(f"per Job (runs = tenants x declared operations x {len(shells)} shell(s); sim. s = summed sleeps)")
print(f"{'job':<44} {'operations':<60} {'runs':>5} {'ok':>4} {'fail':>4} {'sim. s':>11} {'lines':>7}")
for j in jobs:
    s = per_job.get(j["key"])
    ops = j["annotation"] if j["annotation"] is not None else "(none)"
    if s is None:
        print(f"{j['key']:<44} {ops:<60} {'-':>5}")
        continue
    secs = f"{min(s['seconds']):.1f}-{max(s['seconds']):.1f}"
    lines = f"{min(s['lines'])}-{max(s['lines'])}"
    print(f"{j['key']:<44} {ops:<60} {s['runs']:>5} {s['ok']:>4} {s['failed']:>4} {secs:>11} {lines:>7}")
print()
print(f"failing combinations ({len(failing)}):")
for job, tenant, op, code in failing:
    r = next(r for r in failures if (r["job"], r["tenant"], r["op"]) == (job, tenant, op))
    first = r["stderr"].strip().splitlines()[0] if r["stderr"].strip() else ""
    print(f"  {job} x {tenant} x {op}: exit {code}: {first}")
if VERBOSE:
    for r in results:
        print(f"\n=== [{r['shell']}] {r['job']} x {r['tenant']} x {r['op']}: exit {r['code']}, "
              f"{r.get('seconds', 0):.1f} s, {r.get('lines', 0)} lines")
        print(r["stdout"], end="")
        for line in r["stderr"].splitlines():
            print(f"[stderr] {line}")
print()
if problems:
    print(f"FAIL: {len(problems)} problem(s)")
    for p in problems:
        print(f"  - {p}")
    sys.exit(1)
print("PASS: YAML valid, scripts inside the shell subset, exactly one failing combination (as designed)")
PYTHON
python3 "$script" "$here" "$@"
