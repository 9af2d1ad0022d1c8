/* smtp_filter.so: a third-party filter on smtp.so's hooks, built against
 * the installed SDK like any out-of-tree module. It refuses a sender,
 * greylists a recipient (DEFER), answers one recipient later from a timer
 * (PENDING), adds a header at smtp.data, and adds an EHLO keyword and a
 * verb through the "smtp.ext" interface. */
#include <poshta/poshta.h>
#include <poshta/smtp.h>

#include <stdio.h>
#include <string.h>

static const char *const smtp_filter_requires[] = { "smtp", NULL };

static int
on_mail(struct ps_hook_call *call, void *arg)
{
	const struct ps_smtp_event *ev = ps_hook_data(call);

	(void)arg;
	if (strcmp(ev->sender, "spammer@bad.test") != 0)
		return PS_HOOK_CONTINUE;
	ps_hook_reply(call, "550 5.7.1 Sender refused by policy");
	return PS_HOOK_REJECT;
}

static void
answer_later(void *call)
{
	ps_hook_resume(call, PS_HOOK_CONTINUE);
}

static int
on_rcpt(struct ps_hook_call *call, void *arg)
{
	const struct ps_smtp_event *ev = ps_hook_data(call);

	(void)arg;
	if (strncmp(ev->rcpt, "grey", 4) == 0) {
		ps_hook_reply(call, "Greylisted, try again later");
		return PS_HOOK_DEFER;
	}
	if (strncmp(ev->rcpt, "slow", 4) == 0)
		return ps_timer_add(200, answer_later, call) ?
			PS_HOOK_PENDING : PS_HOOK_DEFER;
	return PS_HOOK_CONTINUE;
}

static int
on_data(struct ps_hook_call *call, void *arg)
{
	const struct ps_smtp_event *ev = ps_hook_data(call);
	char value[64];

	(void)arg;
	snprintf(value, sizeof(value), "seen %zu recipients", ev->nrcpts);
	return ev->add_header(ev, "X-Smtp-Filter", value) == 0 ?
		PS_HOOK_CONTINUE : PS_HOOK_DEFER;
}

static int
xping(struct ps_conn *c, const char *args, const struct ps_smtp_event *ev,
      void *arg)
{
	(void)ev;
	(void)arg;
	ps_conn_printf(c, "250 2.0.0 pong %s\r\n", args);
	return PS_OK;
}

static int
smtp_filter_init(struct ps_error *err)
{
	struct ps_smtp_ext ext;

	if (ps_iface_get(PS_SMTP_EXT_KIND, PS_SMTP_EXT_NAME, &ext,
			 sizeof(ext)) < 0 || !ext.add_verb || !ext.add_keyword ||
	    ext.add_keyword("XFILTERED") < 0 ||
	    ext.add_verb("XPING", xping, NULL) < 0 ||
	    ps_hook_register(PS_SMTP_HOOK_MAIL, PS_HOOK_MIDDLE, on_mail,
			     NULL) < 0 ||
	    ps_hook_register(PS_SMTP_HOOK_RCPT, PS_HOOK_MIDDLE, on_rcpt,
			     NULL) < 0 ||
	    ps_hook_register(PS_SMTP_HOOK_DATA, PS_HOOK_MIDDLE, on_data,
			     NULL) < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "cannot hook into smtp.so");
		return PS_EFAIL;
	}
	return 0;
}

PS_MODULE_DEFINE(.name = "smtp_filter", .version = "1.0",
		 .requires = smtp_filter_requires, .init = smtp_filter_init);
