module github.com/xinyun-open/ewallet-go/wallet/sqlstore

go 1.25.0

// The tests always run against the SDK of this checkout.
replace github.com/xinyun-open/ewallet-go => ../..

require (
	github.com/jackc/pgx/v5 v5.13.0
	github.com/xinyun-open/ewallet-go v0.0.0-00010101000000-000000000000
	github.com/xinyun-open/ewallet-go/wallet/storetest v0.0.0-00010101000000-000000000000
)

require (
	github.com/emmansun/gmsm v0.43.0 // indirect
	github.com/go-resty/resty/v2 v2.17.2 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace github.com/xinyun-open/ewallet-go/wallet/storetest => ../storetest
