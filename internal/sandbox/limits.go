package sandbox

import "time"

// The limits of section 8 in fen, per account: transfers in from other
// accounts, and payments plus transfers out. Recharge, withdrawal and
// refunds do not count, and a refund does not give limit back.
const (
	dailyLimit  int64 = 1_000_000  // 10,000 CNY
	yearlyLimit int64 = 20_000_000 // 200,000 CNY
)

// timeKeys names the business day and year an operation runs in.
type timeKeys struct{ day, year string }

func keysAt(t time.Time) timeKeys { return timeKeys{dayKey(t), yearKey(t)} }

// usage is the turnover of the current day and year: counters recorded on
// another day or year count as zero, which is how the limits turn over at
// midnight UTC+8 without any timer.
func (a *account) usage(k timeKeys) turnover {
	u := a.Turnover
	if u.Day != k.day {
		u.Day, u.DayIn, u.DayOut = k.day, 0, 0
	}
	if u.Year != k.year {
		u.Year, u.YearIn, u.YearOut = k.year, 0, 0
	}
	return u
}

// checkOut answers whether amount more may leave through payments and
// transfers out; the daily limit is checked before the yearly one.
func (a *account) checkOut(k timeKeys, amount int64) *apiError {
	u := a.usage(k)
	return checkLimits(u.DayOut, u.YearOut, amount, "")
}

// checkIn is checkOut for transfers in; the answer names the payee so that
// the payer can tell whose limit stopped the transfer.
func (a *account) checkIn(k timeKeys, amount int64) *apiError {
	u := a.usage(k)
	return checkLimits(u.DayIn, u.YearIn, amount, "payee ")
}

func checkLimits(day, year, amount int64, whose string) *apiError {
	if amount > dailyLimit-day {
		return fail(codeDailyLimitExceeded, whose+"daily limit of 1,000,000 fen would be exceeded")
	}
	if amount > yearlyLimit-year {
		return fail(codeYearlyLimitExceeded, whose+"yearly limit of 20,000,000 fen would be exceeded")
	}
	return nil
}

// addOut and addIn record turnover on a staged account.
func (a *account) addOut(k timeKeys, amount int64) {
	u := a.usage(k)
	u.DayOut += amount
	u.YearOut += amount
	a.Turnover = u
}

func (a *account) addIn(k timeKeys, amount int64) {
	u := a.usage(k)
	u.DayIn += amount
	u.YearIn += amount
	a.Turnover = u
}
