module github.com/xinyun-open/ewallet-go/internal/chaos

go 1.25.0

// The tests always run against the SDK of this checkout.
replace github.com/xinyun-open/ewallet-go => ../..

replace github.com/xinyun-open/ewallet-go/wallet/redisstore => ../../wallet/redisstore

replace github.com/xinyun-open/ewallet-go/wallet/storetest => ../../wallet/storetest

require (
	github.com/redis/go-redis/v9 v9.22.0
	github.com/xinyun-open/ewallet-go v0.0.0-00010101000000-000000000000
	github.com/xinyun-open/ewallet-go/wallet/redisstore v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/emmansun/gmsm v0.43.0 // indirect
	github.com/go-resty/resty/v2 v2.17.2 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
