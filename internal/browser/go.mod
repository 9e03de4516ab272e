module github.com/xinyun-open/ewallet-go/internal/browser

go 1.25.0

// The tests always run against the SDK of this checkout.
replace github.com/xinyun-open/ewallet-go => ../..

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/stretchr/testify v1.12.1
	github.com/xinyun-open/ewallet-go v0.0.0-00010101000000-000000000000
)

require (
	github.com/emmansun/gmsm v0.43.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-resty/resty/v2 v2.17.2 // indirect
	github.com/google/go-querystring v1.2.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/net v0.56.0 // indirect
)
