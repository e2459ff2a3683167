// A pod sandbox ("pause") image and a stand-in workload for the local end-to-end node: a static
// binary with no dependencies, so the node needs no registry. See tools/k8s/build-addons.sh.
module nsshutdown.local/tools/k8s/pause

go 1.24.0
