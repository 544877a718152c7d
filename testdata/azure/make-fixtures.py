#!/usr/bin/python3
"""Write the Azure document fixtures used by tests/unit/test_rp_import.c.

- get-access-cvm-os.json: a disk restore point beginGetAccess answer (AccessUri) for a CVM OS
  disk: accessSAS, securityDataAccessSAS (the _vmgs blob), securityMetadataAccessSAS (_vmmd).
- get-access-cvm-os-operation.json: the same answer as the async operation result that the
  Azure-AsyncOperation URL returns: {"status": "Succeeded", "properties": {"output": {...}}}.
- get-access-data.json: the answer for a data disk: accessSAS only.
- config-linuxvm01-<jobid>.json: an Azure Backup "restore disks" config blob: the VM resource
  with ARM's flattened "properties.*" keys, UTF-16LE with a BOM, padded with NULs to a multiple
  of 512 bytes (it is a page blob), as the PowerShell steps Microsoft publishes expect
  (Get-Content -Encoding Unicode, TrimEnd NULs, ConvertFrom-Json).
- config-cvmvm02-<jobid>.json: the config blob of a customer-key CVM restored as managed disks
  (every CVM is): no vhd.uri; each disk's name is the restored managed disk's name in the target
  resource group (Microsoft's steps and operators' scripts attach them with
  Get-AzDisk -ResourceGroupName <Target resource group> -DiskName
  $obj.'properties.storageProfile'.osDisk.name), with managedDisk.id and the OS disk's
  securityProfile (securityEncryptionType, diskEncryptionSet) as in the VM model of
  Microsoft.Compute virtualMachines.
- get-access-cvmvm02-data0.json: the grant-access answer of that VM's restored data disk.

The SAS signatures are fake; the host names follow the real patterns. Usage: make-fixtures.py
[outdir] (default: this script's directory).
"""
import json
import os
import sys

JOB_ID = "0f6c1a9e-5d3b-4c2e-9a7f-2b8e4d6c1a30"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-cvm"
SAS = ("?sv=2018-03-28&sr=b&si=3f1d9c2e-7a4b-4e1f-8c2d-5b6a7e8f9d0c"
       "&sig=FAKEsignatureFORtestsONLYxxxxxxxxxxxxxxxxxxx%3D")


def sas_url(host, blob):
    return "https://%s.z1.blob.storage.azure.net/%s/abcd%s" % (host, blob, SAS)


def access_cvm():
    return {
        "accessSAS": sas_url("md-hdd-5bq1nq0mtrqx", "c6wq4xvtzpxb"),
        "securityDataAccessSAS": sas_url("md-impexp-kh1x0ls2pm4d", "p3rz0nfh2kgw"),
        "securityMetadataAccessSAS": sas_url("md-impexp-kh1x0ls2pm4d", "q8v1m3jd6tfs"),
    }


def operation(output):
    return {
        "startTime": "2026-11-28T10:00:00.0000000+00:00",
        "endTime": "2026-11-28T10:00:02.0000000+00:00",
        "status": "Succeeded",
        "properties": {"output": output},
        "name": "9d2c6b1e-3f4a-4b5c-8d7e-1a2b3c4d5e6f",
    }


def staging_vhd(name):
    return "https://stagingacct01.blob.core.windows.net/linuxvm01-4b0c9a1e5d3f/%s.vhd" % name


def config_blob():
    return {
        "name": "linuxvm01",
        "id": SUB + "/providers/Microsoft.Compute/virtualMachines/linuxvm01",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "tags": {"env": "test"},
        "properties.hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "properties.storageProfile": {
            "osDisk": {
                "osType": "Linux",
                "name": "linuxvm01-osdisk",
                "vhd": {"uri": staging_vhd("linuxvm01-osdisk-20261128-100000")},
                "caching": "ReadWrite",
                "createOption": "FromImage",
                "diskSizeGB": 30,
            },
            "dataDisks": [
                {"lun": 0, "name": "linuxvm01-data0",
                 "vhd": {"uri": staging_vhd("linuxvm01-data0-20261128-100000")},
                 "caching": "None", "createOption": "Empty", "diskSizeGB": 64},
                {"lun": 3, "name": "linuxvm01-data3",
                 "vhd": {"uri": staging_vhd("linuxvm01-data3-20261128-100000")},
                 "caching": "ReadOnly", "createOption": "Empty", "diskSizeGB": 128},
            ],
        },
        "properties.osProfile": {"computerName": "linuxvm01", "adminUsername": "azureuser",
                                 "linuxConfiguration": {"disablePasswordAuthentication": True}},
        "properties.networkProfile": {"networkInterfaces": [
            {"id": SUB + "/providers/Microsoft.Network/networkInterfaces/linuxvm01-nic"}]},
        "properties.diagnosticsProfile": {"bootDiagnostics": {"enabled": False}},
        "properties.provisioningState": "Succeeded",
        "properties.vmId": "5e7d1c3b-9a8f-4e6d-b2c1-0a9f8e7d6c5b",
    }


CVM_JOB_ID = "7a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b"
TARGET_RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-restored"


def cvm_config_blob():
    disks = TARGET_RG + "/providers/Microsoft.Compute/disks/"
    des = (SUB + "/providers/Microsoft.Compute/diskEncryptionSets/des-cvm-cmk")
    return {
        "name": "cvmvm02",
        "id": SUB + "/providers/Microsoft.Compute/virtualMachines/cvmvm02",
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "properties.hardwareProfile": {"vmSize": "Standard_DC2as_v5"},
        "properties.securityProfile": {
            "securityType": "ConfidentialVM",
            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}},
        "properties.storageProfile": {
            "osDisk": {
                "osType": "Linux",
                "name": "cvmvm02-osdisk-20261128-100000",
                "createOption": "Attach",
                "caching": "ReadWrite",
                "managedDisk": {
                    "id": disks + "cvmvm02-osdisk-20261128-100000",
                    "storageAccountType": "Premium_LRS",
                    "securityProfile": {"securityEncryptionType": "DiskWithVMGuestState",
                                        "diskEncryptionSet": {"id": des}}},
                "diskSizeGB": 30,
            },
            "dataDisks": [
                {"lun": 0, "name": "cvmvm02-data0-20261128-100000", "createOption": "Attach",
                 "caching": "None", "diskSizeGB": 64,
                 "managedDisk": {"id": disks + "cvmvm02-data0-20261128-100000",
                                 "storageAccountType": "Premium_LRS"}},
            ],
        },
        "properties.networkProfile": {"networkInterfaces": [
            {"id": SUB + "/providers/Microsoft.Network/networkInterfaces/cvmvm02-nic"}]},
        "properties.provisioningState": "Succeeded",
    }


def utf16_blob(doc):
    blob = b"\xff\xfe" + json.dumps(doc, indent=2).encode("utf-16-le")
    return blob + b"\0" * (512 - len(blob) % 512 if len(blob) % 512 else 512)


def write(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    write(out, "get-access-cvm-os.json", (json.dumps(access_cvm(), indent=2) + "\n").encode())
    write(out, "get-access-cvm-os-operation.json",
          (json.dumps(operation(access_cvm()), indent=2) + "\n").encode())
    write(out, "get-access-data.json",
          (json.dumps({"accessSAS": sas_url("md-ssd-2w9c4kx7b1mz", "t5n8r2q6y3hv")}, indent=2)
           + "\n").encode())
    write(out, "config-linuxvm01-%s.json" % JOB_ID, utf16_blob(config_blob()))
    write(out, "config-cvmvm02-%s.json" % CVM_JOB_ID, utf16_blob(cvm_config_blob()))
    write(out, "get-access-cvmvm02-data0.json",
          (json.dumps({"accessSAS": sas_url("md-ssd-8k2m4n6p0q1r", "u7w9y1a3c5e7")}, indent=2)
           + "\n").encode())


if __name__ == "__main__":
    main()
