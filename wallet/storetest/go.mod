module github.com/xinyun-open/ewallet-go/wallet/storetest

go 1.25.0

// The tests always run against the SDK of this checkout.
replace github.com/xinyun-open/ewallet-go => ../..

require github.com/xinyun-open/ewallet-go v0.0.0-00010101000000-000000000000

require (
	github.com/emmansun/gmsm v0.43.0 // indirect
	github.com/go-resty/resty/v2 v2.17.2 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/net v0.56.0 // indirect
)
