package api

// Every answer the package's tests read is also encoded by encoding/json
// and compared (appendAnswer): a difference fails the request.
func init() { verifyAnswers = true }
