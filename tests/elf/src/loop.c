/* libloopa.so / libloopb.so: each names the other in DT_NEEDED (a loop). */
int LOOP_NAME(void)
{
	return 1;
}
