# Resolve a kickstart %packages list against file:// repositories with dnf's own
# library, without installing anything. Reads a JSON request on stdin and writes one
# JSON answer on stdout. The dnf CLI prints its transaction as a table for humans
# (columns truncate and wrap); this gives xsbuild exact NEVRAs and per-request errors.
import json
import sys

import dnf
import dnf.comps
import dnf.exceptions


def main():
    req = json.load(sys.stdin)
    base = dnf.Base()
    conf = base.conf
    conf.installroot = req["installroot"]
    conf.cachedir = req["cachedir"]
    conf.logdir = req["cachedir"]
    conf.persistdir = req["cachedir"] + "/persist"
    conf.reposdir = []
    conf.gpgcheck = False
    conf.assumeyes = False
    conf.exclude = req.get("excludes", [])
    conf.install_weak_deps = req.get("weakDeps", True)
    conf.substitutions["releasever"] = req.get("releasever") or "0"
    for r in req["repos"]:
        base.repos.add_new_repo(r["name"], conf, baseurl=[r["baseurl"]], skip_if_unavailable=False)
    base.fill_sack(load_system_repo=False)
    try:
        base.read_comps(arch_filter=True)
    except dnf.exceptions.Error:
        pass
    comps = base.comps

    def mark(spec):
        """Mark one request; return an error string or None."""
        if spec.startswith("@^"):
            env = comps.environment_by_pattern(spec[2:]) if comps else None
            if env is None:
                return "no such environment"
            base.environment_install(env.id, ("mandatory", "default"))
            return None
        if spec.startswith("@"):
            grp = comps.group_by_pattern(spec[1:]) if comps else None
            if grp is None:
                return "no such group"
            base.group_install(grp.id, ("mandatory", "default"))
            return None
        try:
            base.install(spec)
        except dnf.exceptions.MarkingError:
            return "no match"
        return None

    specs = req["specs"]
    missing = {}
    # Anaconda adds @core unless %packages --nocore; a repo without it is not an error.
    for s in req.get("implicit", []):
        if s.startswith("@") and comps and comps.group_by_pattern(s[1:]) is not None:
            mark(s)
    for s in specs:
        err = mark(s)
        if err:
            missing[s] = err
    out = {"missing": missing, "broken": {}, "installSet": []}
    try:
        base.resolve()
        out["installSet"] = sorted(
            ({"name": p.name, "epoch": p.epoch, "version": p.version, "release": p.release,
              "arch": p.arch, "repo": p.reponame} for p in base.transaction.install_set),
            key=lambda d: (d["name"], d["arch"]),
        )
        out["ok"] = not missing
    except dnf.exceptions.DepsolveError as e:
        out["ok"] = False
        out["error"] = str(e)
        # Which requests are broken on their own: resolve each alone.
        for s in specs:
            if s in missing:
                continue
            base.reset(goal=True)
            base._comps_trans = dnf.comps.TransactionBunch()
            if mark(s):
                continue
            try:
                base.resolve()
            except dnf.exceptions.DepsolveError as e1:
                out["broken"][s] = str(e1)
    json.dump(out, sys.stdout)


main()
