package paginatetest

// RunRecorded runs s in-process, as a test named name, and returns whether
// it failed and what it reported, as a transcript fit for a golden file.
func RunRecorded[T any](name string, s Suite[T]) (failed bool, transcript string) {
	r := record(name, (&kit[T]{Suite: s}).run)
	return r.Failed(), r.transcript()
}
