//! LG020 binary-hardening: ELF executables built without the usual exploit mitigations.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};
use crate::inventory::Binary;
use crate::inventory::binary::Relro;

/// Reports executables in the final filesystem that lack PIE, full RELRO, a non-executable stack
/// or a stack canary, or that search writable or relative directories for libraries.
pub struct BinaryHardening;

static META: RuleMeta = RuleMeta {
    code: "LG020",
    name: "binary-hardening",
    severity: Severity::Low,
    summary: "An ELF executable lacks PIE, full RELRO, a non-executable stack or a stack canary",
    rationale: "Position-independent code lets ASLR move the program, full RELRO makes the GOT \
                read-only, a non-executable stack stops injected code from running there and a \
                stack canary turns most stack overflows into a clean abort. Distribution \
                toolchains enable all four by default, so a binary without them was usually \
                built by hand and is easier to exploit. A relative or world-writable RUNPATH \
                lets whoever can write there supply the program's libraries.",
    remediation: "Rebuild with `-fPIE -pie -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
                  -Wl,-z,relro,-z,now` (and without `-z execstack`), use absolute or `$ORIGIN` \
                  RUNPATH entries, or take the binary from a distribution package.",
};

impl Rule for BinaryHardening {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn needs_catalogers(&self) -> &'static [&'static str] {
        &["elf"]
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        for binary in &facts.inventory.binaries {
            let missing = missing(binary);
            if missing.is_empty() {
                continue;
            }
            let owner = binary
                .package
                .as_deref()
                .map(|p| format!(" (package {p})"))
                .unwrap_or_default();
            out.push(
                &META,
                Location::file(&binary.path, binary.layer),
                format!("{}{owner}: {}", binary.path, missing.join(", ")),
            );
        }
    }
}

/// What one binary lacks, in a fixed order; empty for anything that is not an executable.
fn missing(b: &Binary) -> Vec<String> {
    // Executables only: a shared library's hardening is judged by the programs that load it.
    if !b.is_executable() {
        return Vec::new();
    }
    let mut out = Vec::new();
    // Static binaries are judged on the stack only. RELRO protects the GOT a dynamic loader
    // fills, which they do not have; and position independence needs `-static-pie`, which the
    // toolchains that build most static programs (Go with CGO off, busybox-static, musl) do not
    // use by default, so "no PIE" on every one of them would drown the findings that matter:
    // dynamically linked programs built with the distribution defaults turned off.
    if !b.is_static && !b.hardening.pie {
        out.push("no PIE".to_owned());
    }
    if !b.is_static {
        match b.hardening.relro {
            Relro::Full => {}
            Relro::Partial => out.push("partial RELRO".to_owned()),
            Relro::None => out.push("no RELRO".to_owned()),
        }
    }
    if !b.hardening.nx {
        out.push("executable stack".to_owned());
    }
    // Go checks stack bounds in every function prologue and rustc does not emit stack
    // protectors by default (safe Rust has no unchecked stack buffers to protect), so a
    // missing canary says nothing about either. A stripped static binary has no symbol names
    // left to look for, so it cannot be judged either.
    let unjudged = b.go.is_some() || b.rust.is_some() || (b.is_static && b.stripped);
    if !unjudged && !b.hardening.canary {
        out.push("no stack canary".to_owned());
    }
    if !b.insecure_runpath.is_empty() {
        out.push(format!(
            "library search path in writable or relative directories: {}",
            b.insecure_runpath.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::binary::{GoBuildInfo, Hardening};

    fn exe(hardening: Hardening) -> Binary {
        Binary {
            path: "/usr/bin/x".into(),
            elf_type: crate::inventory::binary::ElfType::Dyn,
            interpreter: Some("/lib64/ld-linux-x86-64.so.2".into()),
            hardening,
            ..Binary::default()
        }
    }

    const FULL: Hardening = Hardening {
        pie: true,
        relro: Relro::Full,
        nx: true,
        canary: true,
        fortify: true,
    };

    #[test]
    fn hardened_executables_and_libraries_pass() {
        assert!(missing(&exe(FULL)).is_empty());
        let mut lib = exe(Hardening::default());
        lib.interpreter = None;
        assert!(missing(&lib).is_empty(), "shared libraries are not judged");
        // glibc's libc.so.6 can be run, so it has an interpreter; its soname says what it is.
        let mut libc = exe(Hardening {
            relro: Relro::Partial,
            ..FULL
        });
        libc.path = "/lib/x86_64-linux-gnu/libc.so.6".into();
        libc.soname = Some("libc.so.6".into());
        assert!(missing(&libc).is_empty(), "a runnable library is a library");
    }

    #[test]
    fn weak_executables_list_what_is_missing() {
        let mut weak = exe(Hardening::default());
        weak.elf_type = crate::inventory::binary::ElfType::Exec;
        weak.insecure_runpath = vec!["lib".into(), "/tmp/plugins".into()];
        assert_eq!(
            missing(&weak),
            [
                "no PIE",
                "no RELRO",
                "executable stack",
                "no stack canary",
                "library search path in writable or relative directories: lib, /tmp/plugins"
            ]
        );
    }

    #[test]
    fn go_and_static_binaries_are_judged_on_what_applies() {
        let mut go = exe(Hardening {
            canary: false,
            fortify: false,
            ..FULL
        });
        go.go = Some(GoBuildInfo::default());
        assert!(missing(&go).is_empty());
        let mut stat = exe(Hardening {
            relro: Relro::None,
            ..FULL
        });
        stat.is_static = true;
        stat.hardening.pie = false;
        assert!(missing(&stat).is_empty());
    }
}
