package web

// SetLoansPerPage sets how many loans a page of the resources page lists,
// for a test, and returns a function that puts it back.
func SetLoansPerPage(n int) (restore func()) {
	old := loansPerPage
	loansPerPage = n
	return func() { loansPerPage = old }
}
