package governance

import (
	"testing"

	"github.com/concord-ledger/concord/domain/domaintest"
)

func TestCatalogue(t *testing.T) {
	domaintest.CheckCatalogue(t, "governance", "../../docs/events.md")
}
