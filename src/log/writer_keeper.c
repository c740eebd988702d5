/* SPDX-License-Identifier: BSD-2-Clause */
/* The keeper thread (see writer.h): it keeps CAP_LINUX_IMMUTABLE and sets or
 * lifts FS_APPEND_FL on the active segment for the others. */
#include "log/writer.h"
#include "log/writer_impl.h"

#include <errno.h>
#include <string.h>
#include <linux/capability.h>

#include "util/log.h"
#include "util/privs.h"
#include "util/safefile.h"

void *keeper_main(void *arg)
{
	struct log_writer *w = arg;
	thread_keep_capability(CAP_LINUX_IMMUTABLE);
	pthread_mutex_lock(&w->mu);
	while (!w->keeper_stop) {
		if (!w->kreq_pending) {
			pthread_cond_wait(&w->kcond, &w->mu);
			continue;
		}
		w->kreq_rc = file_set_append_only(w->kreq_fd, w->kreq_on);
		w->kreq_errno = errno;
		w->kreq_pending = false;
		w->kreq_done = true;
		pthread_cond_broadcast(&w->kcond);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Set or lift FS_APPEND_FL through the keeper (which keeps the capability). */
int append_flag(struct log_writer *w, int fd, bool on)
{
	if (!w->keeper_running)
		return file_set_append_only(fd, on);
	pthread_mutex_lock(&w->mu);
	w->kreq_fd = fd;
	w->kreq_on = on;
	w->kreq_done = false;
	w->kreq_pending = true;
	pthread_cond_broadcast(&w->kcond);
	while (!w->kreq_done)
		pthread_cond_wait(&w->kcond, &w->mu);
	int rc = w->kreq_rc;
	errno = w->kreq_errno;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void set_append_only(struct log_writer *w)
{
	if (append_flag(w, w->fd, true) == 0) {
		w->append_only = 1;
		return;
	}
	if (w->append_only_errno != errno)
		log_info("cannot make %s/%s append-only (%s); START says append_only=0", w->dir,
			 w->active_name, strerror(errno));
	w->append_only = 0;
	w->append_only_errno = errno;
}
