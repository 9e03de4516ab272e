module github.com/xinyun-open/ewallet-go/internal/chaos

go 1.25.0

// The tests always run against the SDK of this checkout.
replace github.com/xinyun-open/ewallet-go => ../..

replace github.com/xinyun-open/ewallet-go/wallet/redisstore => ../../wallet/redisstore

replace github.com/xinyun-open/ewallet-go/wallet/storetest => ../../wallet/storetest

require (
	github.com/Shopify/toxiproxy/v2 v2.12.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/rs/zerolog v1.35.1
	github.com/xinyun-open/ewallet-go v0.0.0-00010101000000-000000000000
	github.com/xinyun-open/ewallet-go/wallet/redisstore v0.0.0-00010101000000-000000000000
	github.com/xinyun-open/ewallet-go/wallet/storetest v0.0.0-00010101000000-000000000000
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/emmansun/gmsm v0.43.0 // indirect
	github.com/go-resty/resty/v2 v2.17.2 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	github.com/klauspost/compress v1.17.11 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_golang v1.21.1 // indirect
	github.com/prometheus/client_model v0.6.1 // indirect
	github.com/prometheus/common v0.62.0 // indirect
	github.com/prometheus/procfs v0.15.1 // indirect
	github.com/rs/xid v1.6.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	google.golang.org/protobuf v1.36.1 // indirect
	gopkg.in/tomb.v1 v1.0.0-20141024135613-dd632973f1e7 // indirect
)
