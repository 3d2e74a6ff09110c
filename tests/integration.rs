//! Integration tests: the real binary against images built by real tools (`docker build`,
//! `docker save`, `skopeo`) from the recipes in `testdata/`, plus hand-broken hostile images.

mod support;

mod binaries;
mod cache;
mod classifier_crosscheck;
mod cli;
mod debian_binaries;
mod deploy_gate;
mod distroless;
mod ecr;
mod hostile;
mod inventory;
mod languages;
mod own_image;
mod real_inputs;
mod records;
mod registry;
mod reports;
mod rpmdb;
mod rules;
mod sbom;
mod sources;
mod sweep;
mod taskdef;
