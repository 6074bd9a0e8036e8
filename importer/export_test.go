package importer

// SetLimits lowers the stream limits for a test and returns a function
// restoring them.
func SetLimits(event int, stream int64) (restore func()) {
	e, s := maxEventBytes, maxStreamBytes
	maxEventBytes, maxStreamBytes = event, stream
	return func() { maxEventBytes, maxStreamBytes = e, s }
}
