package h5site

import (
	"strconv"
	"strings"
)

// messageOf is a refusal as the page shows it.
func messageOf(e *Refusal) *message {
	msg, hint := messageText(e, -1)
	return &message{err: msg, hint: hint}
}

// retryable reports the codes of a busy bank: the user may simply try
// again (docs/protocol.md, section 6).
func retryable(code string) bool {
	switch code {
	case "SYSTEM_ERROR", "SERVICE_UNAVAILABLE", "RATE_LIMITED":
		return true
	}
	return false
}

// messageText is a bank answer as the user reads it: what happened and,
// where there is one, what to do. triesLeft ≥ 0 is the number of PIN
// attempts left after a PASSWORD_INCORRECT. Only the code and, for
// PARAM_INVALID, the field and reason of the bank are read: nothing the
// sender typed is repeated.
func messageText(e *Refusal, triesLeft int) (msg, hint string) {
	switch e.Code {
	case "PARAM_INVALID":
		return fieldLabel(e.Field) + reasonText(e.Reason) + "。", ""
	case "FOUR_FACTOR_MISMATCH":
		return "身份信息与银行卡预留信息不符。", "请核对姓名、身份证号、银行卡号和银行预留手机号。"
	case "CARD_NOT_SUPPORTED":
		return "该卡不是借记卡，不支持绑定。", "电子账户只能绑定本人的借记卡（储蓄卡）。"
	case "VERIFY_TOKEN_INVALID":
		return "身份核验已失效。", "请重新提交。"
	case "VERIFY_LIMIT_EXCEEDED":
		return "今日身份核验失败次数过多。", "请明天再试。"
	case "SMS_CODE_INVALID":
		return "短信验证码错误。", "请核对验证码；更换手机号后须重新获取。沙箱环境验证码为 123456。"
	case "SMS_CODE_EXPIRED":
		return "短信验证码已失效。", "请重新获取验证码。"
	case "SMS_TOO_FREQUENT":
		return "验证码发送过于频繁。", "每个手机号每分钟最多发送1条、每天最多10条，请稍后再试。"
	case "FACE_MISMATCH":
		return "人脸识别未通过。", "请上传本人清晰的彩色正面照片（至少 64×64 像素）。"
	case "PASSWORD_WEAK":
		return "交易密码过于简单。", "不能使用相同的数字或连续的数字（如 111111、123456）。"
	case "PASSWORD_INCORRECT":
		if triesLeft == 0 {
			return "密码错误，交易密码已锁定。", "请通过“重置交易密码”解锁，或明天再试。"
		}
		if triesLeft > 0 {
			return "密码错误，今日还可尝试 " + strconv.Itoa(triesLeft) + " 次。", ""
		}
		return "密码错误。", ""
	case "PASSWORD_LOCKED":
		return "交易密码已锁定（今日错误次数过多）。", "请通过“重置交易密码”解锁，或明天再试。"
	case "AGE_RESTRICTED":
		return "未满16周岁不能开立电子账户。", ""
	case "ACCOUNT_ALREADY_OPENED":
		return "您已在本渠道开立过电子账户。", "每人在同一渠道只能开立一个电子账户。"
	case "ACCOUNT_NOT_FOUND":
		return "账户不存在。", ""
	case "ACCOUNT_FROZEN":
		return "账户已冻结，暂不能办理此业务。", "如有疑问请联系银行客服。"
	case "ACCOUNT_CLOSED":
		return "账户已销户。", ""
	case "BALANCE_NOT_ZERO":
		return "账户余额不为零，不能销户。", "请先将余额全部提现至绑定银行卡，再办理销户。"
	case "INSUFFICIENT_BALANCE":
		return "账户余额不足。", ""
	case "DAILY_LIMIT_EXCEEDED":
		return "超出单日交易限额（1万元）。", ""
	case "YEARLY_LIMIT_EXCEEDED":
		return "超出年度交易限额（20万元）。", ""
	case "ORDER_CONFLICT":
		return "订单号已被其他交易使用。", "请返回商户重新下单。"
	case "DECRYPT_FAILED":
		return "交易密码格式不正确。", ""
	case "SYSTEM_ERROR", "SERVICE_UNAVAILABLE", "RATE_LIMITED":
		return "银行系统繁忙。", "请稍后重试。"
	}
	return "办理失败（" + e.Code + "）。", ""
}

func fieldLabel(field string) string {
	switch field {
	case "name":
		return "姓名"
	case "id_number":
		return "身份证号"
	case "card_no":
		return "银行卡号"
	case "mobile":
		return "手机号"
	case "sms_code", "sms_serial":
		return "短信验证码"
	case "face_image":
		return "人脸照片"
	case "amount":
		return "金额"
	case "password", "new_password":
		return "交易密码"
	case "subject":
		return "商品名称"
	case "out_trade_no":
		return "订单号"
	case "account_no":
		return "账户号"
	case "user_id":
		return "用户标识"
	}
	return "填写的信息"
}

// reasonText translates the reasons of internal/rules and the bank that a
// user can act on; any other is a format problem.
func reasonText(reason string) string {
	switch {
	case reason == "is required":
		return "不能为空"
	case strings.Contains(reason, "check digit"):
		return "校验位不正确，请核对"
	case strings.Contains(reason, "birth date"):
		return "中的出生日期不正确"
	case reason == "does not match the account holder":
		return "与账户持有人不符"
	case reason == "is the card already bound":
		return "与当前绑定的银行卡相同"
	case strings.HasPrefix(reason, "would take the balance over"):
		return "超出账户余额上限"
	case strings.HasPrefix(reason, "would decode to more than"):
		return "像素过多，请上传较小的照片"
	case strings.HasPrefix(reason, "is larger than"), strings.HasPrefix(reason, "is longer than"):
		return "过大"
	case strings.HasPrefix(reason, "does not decode"), strings.HasPrefix(reason, "must be a JPEG"):
		return "无法识别，请上传 JPEG 或 PNG 图片"
	}
	return "格式不正确"
}
