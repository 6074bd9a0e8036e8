package monitor

import _ "embed"

// File names of the embedded rules files, as they are in monitor/rules/.
const (
	MixinRulesFile    = "kube-state-metrics-mixin.yaml"
	CoverageRulesFile = "coverage.yaml"
)

// MixinRules is rules/kube-state-metrics-mixin.yaml: the kube-state-metrics
// mixin's two sharding alerts, KubeStateMetricsShardingMismatch and
// KubeStateMetricsShardsMissing, rendered with the mixin's defaults.
//
//go:embed rules/kube-state-metrics-mixin.yaml
var MixinRules []byte

// CoverageRules is rules/coverage.yaml: this project's proposal,
// KubeStateMetricsObjectsExportedTwice and KubeStateMetricsObjectsMissing.
//
//go:embed rules/coverage.yaml
var CoverageRules []byte

// DefaultRuleFiles returns the embedded rules files: the mixin's, then the
// coverage rules.
func DefaultRuleFiles() []RuleFile {
	return []RuleFile{
		{Name: MixinRulesFile, Data: MixinRules},
		{Name: CoverageRulesFile, Data: CoverageRules},
	}
}
