// Package storetest holds implementations of notify.Deduper and
// payment.Journal to their contracts, the same tests for every store: the
// in-process notify.MemoryDeduper and payment.FileJournal, and the shared
// ones over Redis (module wallet/redisstore) and SQL (module
// wallet/sqlstore). A merchant who writes a Deduper or Journal over
// another store runs the same tests against it:
//
//	func TestMyDeduper(t *testing.T) {
//		storetest.TestDeduper(t, storetest.DeduperStore{
//			Open: func(t *testing.T, ns string, retention time.Duration) notify.Deduper {
//				return mystore.NewDeduper(connect(t), ns, retention)
//			},
//		})
//	}
//
// Fleet runs several instances of a merchant against the sandbox bank,
// sharing one store, through delivery faults, and checks that every
// notification is handled exactly once.
//
// It is a module of its own, so that the store modules share these tests
// without the core module depending on anything for them.
package storetest
