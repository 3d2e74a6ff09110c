//! Stage 3a: hardening rules.
//!
//! A rule is one file in this directory plus one line in [`register!`] below. It says which files
//! it wants ([`Rule::wants`]); the walker merges every rule's wants into one filter, so there is
//! one pass and only wanted files are read. File-level checks run while the layer streams past;
//! image-level checks run once, on the merged [`ImageFacts`].

use crate::config::Settings;
use crate::event::{FileEvent, FileMeta, Interest};
use crate::finding::Findings;
pub use crate::finding::RuleMeta;
use crate::image::Image;
use crate::image_config::ImageConfig;
use crate::overlay::FileIndex;

/// What an image-level check may know of one layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct LayerFacts<'a> {
    /// Bytes in the uncompressed tar stream.
    pub tar_size: u64,
    /// Sum of regular-file sizes.
    pub content_size: u64,
    /// Raw names whose `..` climbs above the root.
    pub escapes: &'a [String],
}

/// Everything an image-level check may look at.
pub struct ImageFacts<'a> {
    /// The image: reference, digests, annotations.
    pub image: &'a Image,
    /// Its configuration.
    pub config: &'a ImageConfig,
    /// One entry per layer, bottom first.
    pub layers: &'a [LayerFacts<'a>],
    /// The final filesystem.
    pub files: &'a FileIndex<'a>,
    /// The user's thresholds and allow-lists.
    pub settings: &'a Settings,
    /// What the catalogers found, merged over the final filesystem.
    pub inventory: &'a crate::inventory::Inventory,
}

impl<'a> ImageFacts<'a> {
    /// The contents of a retained file as the final filesystem holds it.
    pub fn content(&self, path: &str) -> Option<&'a [u8]> {
        self.files.content(path)
    }

    /// The retained contents of a file as text.
    pub fn text(&self, path: &str) -> Option<String> {
        self.content(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// A hardening check. Every method but `meta` has a default, so a rule implements only what it
/// needs.
pub trait Rule: Send + Sync {
    /// Its documentation.
    fn meta(&self) -> &'static RuleMeta;

    /// Which files it needs to see while layers stream past.
    fn wants(&self, _file: &FileMeta) -> Interest {
        Interest::None
    }

    /// Checks one file of one layer (contents present when `wants` asked for them).
    fn check_file(&self, _event: &FileEvent<'_>, _out: &mut Findings) {}

    /// Checks the whole image once all layers are merged.
    fn check_image(&self, _facts: &ImageFacts<'_>, _out: &mut Findings) {}

    /// The catalogers (by [`crate::inventory::Cataloger::name`]) whose findings this rule reads
    /// from [`ImageFacts::inventory`]; they run even when the inventory is not reported.
    fn needs_catalogers(&self) -> &'static [&'static str] {
        &[]
    }
}

macro_rules! register {
    ($($module:ident :: $rule:ident),* $(,)?) => {
        $(mod $module;)*
        /// Every rule, in code order.
        pub static RULES: &[&dyn Rule] = &[$(&$module::$rule),*];
    };
}

register! {
    setuid::SetuidFile,
    root_user::RootUser,
    excess_layers::ExcessLayers,
    oversized_image::OversizedImage,
    wasted_space::WastedSpace,
    missing_multi_stage::MissingMultiStage,
    mutable_tag::MutableTag,
    secret_in_config::SecretInConfig,
    secret_file::SecretFile,
    package_cache::PackageCache,
    untrusted_registry::UntrustedRegistry,
    no_healthcheck::NoHealthcheck,
    sensitive_volume::SensitiveVolume,
    sudo_installed::SudoInstalled,
    ssh_server::SshServer,
    empty_password::EmptyPassword,
    duplicate_id::DuplicateId,
    world_writable::WorldWritable,
    path_escape::PathEscape,
    binary_hardening::BinaryHardening,
    ecr_mutable_tags::EcrMutableTags,
    ecr_scanning_off::EcrScanningOff,
    ecr_not_kms_encrypted::EcrNotKmsEncrypted,
    ecr_no_lifecycle_policy::EcrNoLifecyclePolicy,
    ecr_public_policy::EcrPublicPolicy,
}

/// Finds a rule by code (`LG001`) or name (`setuid-file`), case-insensitively.
pub fn find(code_or_name: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().is_named(code_or_name))
}

pub(crate) use crate::text::human_size;

/// Each of `count` layers' build instructions, quoted for a message: `` `RUN apt-get …` ``.
/// Instructions carry build arguments, so secrets are redacted before anything is shown.
pub(crate) fn describe_layers(config: &ImageConfig, count: usize) -> Vec<String> {
    const SHOWN: usize = 60;
    let history = config.layer_history();
    (0..count)
        .map(|i| {
            let Some(text) = history
                .get(i)
                .copied()
                .flatten()
                .and_then(|h| config.instruction(h))
            else {
                return "no history".to_owned();
            };
            let text = crate::signatures::redact_secrets(&text);
            match text.char_indices().nth(SHOWN) {
                Some((cut, _)) => format!("`{}…`", &text[..cut]),
                None => format!("`{text}`"),
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds `ImageFacts` from hand-made layers, so each rule's tests need no tar.
    use super::*;
    use crate::event::FileKind;
    pub use crate::layer::LayerContent;

    /// A regular file.
    pub fn file(path: &str, mode: u32, size: u64) -> FileMeta {
        FileMeta {
            path: path.into(),
            kind: FileKind::Regular,
            mode,
            uid: 0,
            gid: 0,
            size,
            link_target: None,
        }
    }

    /// A directory.
    pub fn dir(path: &str, mode: u32) -> FileMeta {
        FileMeta {
            kind: FileKind::Dir,
            ..file(path, mode, 0)
        }
    }

    /// Runs `rule`'s image check on the given layers and config and returns the findings.
    pub fn check(
        rule: &dyn Rule,
        layers: Vec<LayerContent>,
        image: Image,
        settings: &Settings,
    ) -> Vec<crate::finding::Finding> {
        let files = FileIndex::build(&layers);
        let inventory = crate::inventory::Inventory::default();
        let layer_facts: Vec<LayerFacts<'_>> = layers
            .iter()
            .map(|l| LayerFacts {
                tar_size: l.tar_size,
                content_size: l.content_size,
                escapes: &l.escapes,
            })
            .collect();
        let facts = ImageFacts {
            image: &image,
            config: &image.config,
            layers: &layer_facts,
            files: &files,
            settings,
            inventory: &inventory,
        };
        let mut out = Findings::default();
        rule.check_image(&facts, &mut out);
        out.into_vec()
    }

    /// Runs `rule`'s file check on one file the way the walker would: only when `wants` asks.
    pub fn check_file(
        rule: &dyn Rule,
        meta: &FileMeta,
        content: &[u8],
    ) -> Vec<crate::finding::Finding> {
        let mut out = Findings::default();
        let interest = rule.wants(meta);
        if interest > Interest::None {
            let content = (interest >= Interest::Content).then_some(content);
            let event = FileEvent {
                meta,
                content,
                truncated: false,
            };
            rule.check_file(&event, &mut out);
        }
        out.into_vec()
    }

    /// A symbolic link.
    pub fn symlink(path: &str, target: &str) -> FileMeta {
        FileMeta {
            kind: FileKind::Symlink,
            link_target: Some(target.into()),
            ..file(path, 0o777, 0)
        }
    }

    /// A layer of `tar_size` bytes holding `files`.
    pub fn sized_layer(files: Vec<FileMeta>, tar_size: u64) -> LayerContent {
        LayerContent {
            content_size: files.iter().map(|f| f.size).sum(),
            tar_size,
            ..layer(files, &[])
        }
    }

    /// An image whose history gives each layer the instruction `RUN <command>`.
    pub fn image_with_history(commands: &[&str]) -> Image {
        let mut image = Image::default();
        image.config.history = commands
            .iter()
            .map(|c| crate::image_config::History {
                created_by: Some(format!("/bin/sh -c {c}")),
                ..Default::default()
            })
            .collect();
        image
    }

    /// A layer holding `files`, with `retained` contents.
    pub fn layer(files: Vec<FileMeta>, retained: &[(&str, &str)]) -> LayerContent {
        LayerContent {
            files: files.into_iter().collect(),
            retained: retained
                .iter()
                .map(|(p, c)| (p.to_string(), crate::layer::Retained(c.as_bytes().to_vec())))
                .collect(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_sorted_and_documented() {
        let metas: Vec<&RuleMeta> = RULES.iter().map(|r| r.meta()).collect();
        crate::finding::assert_rule_table(&metas, "LG");
    }
}
