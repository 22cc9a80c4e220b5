package web

import "testing"

func TestEventWords(t *testing.T) {
	for in, want := range map[string]string{
		"ChairElected":         "Chair elected",
		"CPDEventOrganised":    "CPD event organised",
		"CommunityEstablished": "ISLC established",
		"LoanRequested":        "Loan requested",
		"TeamVoteCast":         "Team vote cast",
		"RAGRated":             "RAG rated",
		"Erased":               "Erased",
		"":                     "",
	} {
		if got := eventWords(in); got != want {
			t.Errorf("eventWords(%q) = %q, want %q", in, got, want)
		}
	}
}
