//! `.note.package`: the ELF note in which distributions (Fedora, Debian's debhelper with
//! `dh_package_notes`, systemd's tooling) record which package built a binary, so a crash dump or
//! an unpackaged copy can still be traced to its source. Spec:
//! <https://systemd.io/ELF_PACKAGE_METADATA/> — owner `FDO`, type `0xcafe1a7e`, the descriptor a
//! NUL-terminated JSON object.

use super::{PackageKind, PackageRecord};
use serde::{Deserialize, Serialize};

const OWNER: &[u8] = b"FDO\0";
const NOTE_TYPE: u32 = 0xcafe_1a7e;

/// The package metadata a binary carries about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageNote {
    /// Package format: `rpm`, `deb`, `alpm`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Distribution id, like `fedora`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Distribution version.
    #[serde(default, rename = "osVersion", skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
}

impl PackageNote {
    /// The note as a package record, located at the binary that carries it.
    pub fn record(&self) -> PackageRecord {
        let kind = match self.kind.as_str() {
            "deb" => PackageKind::Deb,
            "rpm" => PackageKind::Rpm,
            "apk" => PackageKind::Apk,
            _ => PackageKind::Binary,
        };
        PackageRecord {
            name: self.name.clone(),
            version: self.version.clone(),
            kind,
            arch: self.architecture.clone(),
            source: None,
            licenses: Vec::new(),
            files: 1,
            namespace: None,
            found_in: None,
            cpes: Vec::new(),
        }
    }
}

/// Finds the package note among the notes of one `PT_NOTE` segment. Notes are 4-byte aligned;
/// every length is checked against the segment, which comes from an untrusted file.
pub fn find(segment: &[u8], little_endian: bool) -> Option<Result<PackageNote, String>> {
    let word = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if little_endian {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let align = |n: usize| n.checked_add(3).map(|v| v & !3);
    let mut at = 0usize;
    while at.checked_add(12)? <= segment.len() {
        let namesz = word(&segment[at..]) as usize;
        let descsz = word(&segment[at + 4..]) as usize;
        let kind = word(&segment[at + 8..]);
        let name_start = at + 12;
        let desc_start = name_start.checked_add(align(namesz)?)?;
        let desc_end = desc_start.checked_add(descsz)?;
        if desc_end > segment.len() {
            return None;
        }
        if kind == NOTE_TYPE && segment.get(name_start..name_start + namesz) == Some(OWNER) {
            let desc = &segment[desc_start..desc_end];
            let json = desc.split(|&b| b == 0).next().unwrap_or_default();
            return Some(serde_json::from_slice(json).map_err(|e| format!(".note.package: {e}")));
        }
        at = desc_start.checked_add(align(descsz)?)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(owner: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(owner.len() as u32).to_le_bytes());
        v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        v.extend_from_slice(&kind.to_le_bytes());
        v.extend_from_slice(owner);
        v.resize(v.len().div_ceil(4) * 4, 0);
        v.extend_from_slice(desc);
        v.resize(v.len().div_ceil(4) * 4, 0);
        v
    }

    #[test]
    fn finds_the_fdo_note_after_others_and_survives_garbage() {
        // The shape Fedora's package-notes writes (systemd.io/ELF_PACKAGE_METADATA).
        let json = br#"{"type":"rpm","name":"systemd","version":"254.5-2.fc39","architecture":"x86_64","osCpe":"cpe:/o:fedoraproject:fedora:39"}"#;
        let mut desc = json.to_vec();
        desc.push(0);
        let mut segment = note(b"GNU\0", 3, &[0xab; 20]);
        segment.extend(note(OWNER, NOTE_TYPE, &desc));
        let found = find(&segment, true).unwrap().unwrap();
        assert_eq!(
            (found.kind.as_str(), found.name.as_str()),
            ("rpm", "systemd")
        );
        assert_eq!(found.record().kind, PackageKind::Rpm);

        assert!(find(&note(b"GNU\0", 3, &[1; 8]), true).is_none());
        let mut lying = note(OWNER, NOTE_TYPE, b"{}");
        lying[4] = 0xff; // descsz far past the end
        assert!(find(&lying, true).is_none());
        assert!(find(&[1, 2, 3], true).is_none());
        assert!(
            find(&note(OWNER, NOTE_TYPE, b"not json"), true)
                .unwrap()
                .is_err()
        );
    }
}
