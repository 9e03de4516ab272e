package wallettest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// A TestPerson is a made-up person whose four factors pass the sandbox's
// check: a valid identity number, a debit card with a valid Luhn digit, and
// a mobile. Every call of Person makes a different one, so tests do not
// collide on "one account per person".
type TestPerson struct {
	Name     wallet.Name
	IDNumber wallet.IDNumber
	CardNo   wallet.CardNumber
	Mobile   wallet.Mobile
	UserID   string
}

// Person returns a new test person, an adult of 25 to 55 born on a random
// day: identity numbers differ in the birth date as well as the serial, so
// that a test opening many accounts does not draw one twice (with a fixed
// birthday, eight people collided in about one run in 36).
func Person() TestPerson {
	return PersonBorn(time.Now().AddDate(-25, 0, -1-rand.IntN(30*365)))
}

// PersonBorn returns a new test person born on that day (UTC+8).
func PersonBorn(birth time.Time) TestPerson {
	n := rand.Uint32()
	id17 := fmt.Sprintf("110101%s%03d", birth.In(time.FixedZone("", 8*3600)).Format("20060102"), n%1000)
	card := fmt.Sprintf("622202%012d", rand.Uint64()%1e12)
	mobile := fmt.Sprintf("13%09d", rand.Uint32()%1e9)
	if mobile[7:] == "0000" {
		mobile = mobile[:10] + "1" // the sandbox fails four factors for mobiles ending 0000
	}
	return TestPerson{
		Name:     wallet.Name(surnames[n%uint32(len(surnames))] + givenNames[(n/7)%uint32(len(givenNames))]),
		IDNumber: wallet.IDNumber(id17 + string(rules.IDCheckChar(id17))),
		CardNo:   wallet.CardNumber(card + string(rules.LuhnDigit(card))),
		Mobile:   wallet.Mobile(mobile),
		UserID:   fmt.Sprintf("u-%08x", rand.Uint32()),
	}
}

var (
	surnames   = []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"}
	givenNames = []string{"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟"}
)

// CreditCard returns a valid card number the sandbox treats as a credit card
// (it starts with 4), for CARD_NOT_SUPPORTED.
func CreditCard() wallet.CardNumber {
	card := fmt.Sprintf("41111111%010d", rand.Uint64()%1e10)
	return wallet.CardNumber(card + string(rules.LuhnDigit(card)))
}

// Face returns a colour 96×96 JPEG that passes the sandbox's face check.
func Face() wallet.FaceImage { return faceImage(false) }

// GrayFace returns a grayscale JPEG that the sandbox rejects with
// FACE_MISMATCH.
func GrayFace() wallet.FaceImage { return faceImage(true) }

func faceImage(gray bool) wallet.FaceImage {
	var img image.Image
	if gray {
		g := image.NewGray(image.Rect(0, 0, 96, 96))
		for i := range g.Pix {
			g.Pix[i] = uint8(i % 251)
		}
		img = g
	} else {
		c := image.NewRGBA(image.Rect(0, 0, 96, 96))
		for y := 0; y < 96; y++ {
			for x := 0; x < 96; x++ {
				c.Set(x, y, color.RGBA{uint8(200 - x), uint8(120 + y/2), uint8(90 + x/3), 255})
			}
		}
		img = c
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return b.Bytes()
}
