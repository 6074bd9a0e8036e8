// Package golden compares test output with golden files under testdata/
// and rewrites them when the tests run with -update:
//
//	go test ./htmlreport -run TestGolden -update
package golden
