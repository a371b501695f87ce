"""signl4-agent: the two-way ConnectWise Manage <-> SIGNL4 sync, run by the MSP.

The HTTP clients come from the collection (``ansible_collections.signl4.connectwise.plugins.module_utils``);
nothing here imports Ansible.
"""

__version__ = "0.1.0"
