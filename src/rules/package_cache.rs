//! LG010 package-cache: package-manager caches left in the final filesystem.

use super::{ImageFacts, Rule, RuleMeta, human_size};
use crate::event::FileKind;
use crate::finding::{Findings, Location, Severity};
use crate::signatures::PACKAGE_CACHES_DATA;
use std::collections::{BTreeMap, BTreeSet};

/// Reports package-manager caches, one finding per ecosystem.
pub struct PackageCache;

static META: RuleMeta = RuleMeta {
    code: "LG010",
    name: "package-cache",
    severity: Severity::Low,
    summary: "Package-manager caches (apt, apk, yum, dnf, pip, npm, yarn, cargo, go) are left in the image",
    rationale: "Package indexes and downloaded archives are only needed while installing, yet \
                they ship in every pull and slow every task start. The ECS best-practice guide \
                (capacity and availability: image size) says to keep images small and leave \
                build intermediates behind.",
    remediation: "Clean the cache in the same `RUN` that fills it: `apt-get clean && rm -rf \
                  /var/lib/apt/lists/*`, `apk add --no-cache`, `yum clean all` / `dnf clean \
                  all`, `pip install --no-cache-dir`, `npm cache clean --force`, `yarn cache \
                  clean`, `go clean -cache -modcache`; or use `RUN --mount=type=cache` so the \
                  cache never enters a layer.",
};

#[derive(Default)]
struct Cache {
    bytes: u64,
    files: usize,
    dirs: BTreeSet<String>,
}

impl Rule for PackageCache {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let data = &*PACKAGE_CACHES_DATA;
        let mut caches: BTreeMap<usize, Cache> = BTreeMap::new();
        for live in facts
            .files
            .iter()
            .filter(|f| f.meta.kind == FileKind::Regular)
        {
            if let Some((ecosystem, dir)) = data.locate(&live.meta.path) {
                let cache = caches.entry(ecosystem).or_default();
                cache.bytes += live.meta.size;
                cache.files += 1;
                if !cache.dirs.contains(dir) {
                    cache.dirs.insert(dir.to_owned());
                }
            }
        }
        for (ecosystem, cache) in caches {
            let ecosystem = &data.ecosystems[ecosystem];
            let dirs: Vec<&str> = cache.dirs.iter().map(String::as_str).collect();
            out.push(
                &META,
                Location::path(dirs[0]),
                format!(
                    "{} cache: {} in {} file(s) under {}; clean it in the RUN that fills it with `{}`",
                    ecosystem.id,
                    human_size(cache.bytes),
                    cache.files,
                    dirs.join(", "),
                    ecosystem.clean
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    #[test]
    fn reports_one_finding_per_ecosystem() {
        let layers = vec![layer(
            vec![
                file(
                    "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
                    0o644,
                    2048,
                ),
                file("/var/lib/apt/lists/lock", 0o640, 0),
                file("/var/cache/apt/pkgcache.bin", 0o644, 1024),
                file("/root/.cache/pip/http/a/b", 0o644, 10),
                file("/home/app/.cache/pip/http/c", 0o644, 10),
                file("/usr/bin/apt-get", 0o755, 10),
            ],
            &[],
        )];
        let found = check(
            &PackageCache,
            layers,
            Image::default(),
            &Settings::default(),
        );
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "apt cache: 3.0 KiB in 2 file(s) under /var/cache/apt, /var/lib/apt/lists; clean it in \
                 the RUN that fills it with `apt-get clean && rm -rf /var/lib/apt/lists/*`",
                "pip cache: 20 B in 2 file(s) under /home/app/.cache/pip, /root/.cache/pip; clean it in \
                 the RUN that fills it with `pip install --no-cache-dir … (or rm -rf ~/.cache/pip)`",
            ]
        );
        assert_eq!(found[0].location.path.as_deref(), Some("/var/cache/apt"));
    }

    #[test]
    fn a_cleaned_image_is_clean() {
        let layers = vec![layer(
            vec![
                file("/var/lib/apt/lists/lock", 0o640, 0),
                dir("/var/cache/apt/archives", 0o755),
            ],
            &[],
        )];
        assert!(
            check(
                &PackageCache,
                layers,
                Image::default(),
                &Settings::default()
            )
            .is_empty()
        );
    }
}
