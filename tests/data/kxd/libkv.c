/* The pVM library of kxd's tests: built as libkvtest.so, libkvnow.so, ...
 * (one source, several signed names); only its bytes matter to kxd. */
#ifndef KV_ANSWER
#define KV_ANSWER 42 /* libkvold.so is built with another: its own digest */
#endif
int kv_answer(void);
int kv_answer(void)
{
	return KV_ANSWER;
}
