"""TranscriptRequest documents the tests build on, beside the PESC samples."""

from __future__ import annotations

NS = "urn:org:pesc:message:TranscriptRequest:v1.4.0"

# A request as an NC consumer would send one: state id, local id, an SSN that must not be kept,
# two recipients (a college and a person).
NC_REQUEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<TrReq:TranscriptRequest xmlns:TrReq="{NS}">
  <TrReq:TransmissionData>
    <DocumentID>CFNC-2025-0001</DocumentID>
    <CreatedDateTime>2025-02-03T09:15:00-05:00</CreatedDateTime>
    <DocumentTypeCode>Request</DocumentTypeCode>
    <TransmissionType>Original</TransmissionType>
    <Source><Organization><OrganizationName>College Foundation of North Carolina</OrganizationName></Organization></Source>
    <Destination><Organization><CEEBACT>340123</CEEBACT><OrganizationName>Enloe Magnet High School</OrganizationName></Organization></Destination>
    <DocumentProcessCode>TEST</DocumentProcessCode>
    <RequestTrackingID>CFNC-TRK-77</RequestTrackingID>
  </TrReq:TransmissionData>
  <TrReq:Request>
    <CreatedDateTime>2025-02-03T09:14:00-05:00</CreatedDateTime>
    <RequestedStudent>
      <Person>
        <SchoolAssignedPersonID>445566</SchoolAssignedPersonID>
        <AgencyIdentifier>
          <AgencyAssignedID>1234567890</AgencyAssignedID>
          <AgencyCode>State</AgencyCode>
          <StateProvinceCode>NC</StateProvinceCode>
        </AgencyIdentifier>
        <SSN>987654321</SSN>
        <Birth><BirthDate>2007-05-17</BirthDate></Birth>
        <Name>
          <FirstName>Zoë</FirstName><MiddleName>Marie</MiddleName>
          <LastName>Ångström-Núñez</LastName><NameSuffix>JR</NameSuffix>
        </Name>
      </Person>
      <Attendance>
        <School><OrganizationName>Enloe Magnet High School</OrganizationName><CEEBACT>340123</CEEBACT></School>
        <EnrollDate>2021-08-23</EnrollDate>
        <CurrentEnrollmentIndicator>1</CurrentEnrollmentIndicator>
      </Attendance>
      <ReleaseAuthorizedIndicator>true</ReleaseAuthorizedIndicator>
      <ReleaseAuthorizedMethod>ElectronicSignature</ReleaseAuthorizedMethod>
    </RequestedStudent>
    <Recipient>
      <RequestTrackingID>RT-1</RequestTrackingID>
      <RecipientTrackingID>UNC-APP-9</RecipientTrackingID>
      <Receiver>
        <RequestorReceiverOrganization>
          <OrganizationName>University of North Carolina at Chapel Hill</OrganizationName>
          <ATP>005816</ATP>
        </RequestorReceiverOrganization>
      </Receiver>
      <TranscriptPurpose>Admission</TranscriptPurpose>
      <DeliveryMethod>Electronic</DeliveryMethod>
      <ElectronicDelivery><ElectronicFormat>XML</ElectronicFormat><ElectronicMethod>ServiceProvider</ElectronicMethod></ElectronicDelivery>
    </Recipient>
    <Recipient>
      <RequestTrackingID>RT-2</RequestTrackingID>
      <Receiver><Person><Name><FirstName>Ada</FirstName><LastName>O'Neil</LastName></Name></Person></Receiver>
      <TranscriptPurpose>Scholarship</TranscriptPurpose>
    </Recipient>
  </TrReq:Request>
</TrReq:TranscriptRequest>
"""
