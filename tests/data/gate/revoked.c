/* A build whose content digest notes.yaml revokes (manager/gate/module.mk fills it
 * in): validly signed, still refused. */
const char *revoked_why(void)
{
	return "this build leaked debug output";
}
