Attribute VB_Name = "XlplanRibbon"
' Ribbon callbacks of the "Uppfoljning" tab (customUI14.xml).
' Each button runs one function of the Python package xlplan through the
' xlwings VBA module (RunPython). Keep this file ASCII: Swedish text is
' written with ChrW or comes from Python.
Option Explicit

' Workbook name that points at the cell holding the user guide's path or URL.
Private Const GUIDE_NAME As String = "xlplan_guide"
' Used when the workbook has no such name: a file beside the workbook.
Private Const DEFAULT_GUIDE As String = "xlplan-anvandarguide.pdf"

Public Sub XlplanPull(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.pull()"
    Exit Sub
Failed:
    ReportFailure "pull"
End Sub

Public Sub XlplanFlag(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.flag()"
    Exit Sub
Failed:
    ReportFailure "flag"
End Sub

Public Sub XlplanSubmit(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.submit()"
    Exit Sub
Failed:
    ReportFailure "submit"
End Sub

Public Sub XlplanFill(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.fill()"
    Exit Sub
Failed:
    ReportFailure "fill"
End Sub

Public Sub XlplanConsolidate(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.consolidate()"
    Exit Sub
Failed:
    ReportFailure "consolidate"
End Sub

Public Sub XlplanExport(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.export()"
    Exit Sub
Failed:
    ReportFailure "export"
End Sub

Public Sub XlplanApprove(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.approve()"
    Exit Sub
Failed:
    ReportFailure "approve"
End Sub

Public Sub XlplanReturn(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.send_back()"
    Exit Sub
Failed:
    ReportFailure "send_back"
End Sub

Public Sub XlplanAbout(control As Object)
    On Error GoTo Failed
    RunPython "import xlplan.excel as x; x.about()"
    Exit Sub
Failed:
    ReportFailure "about"
End Sub

' Python finds the guide (the setting on Val, the PDF beside the workbook, or the one shipped with
' xlplan); without Python the link is followed from here.
Public Sub XlplanGuide(control As Object)
    On Error GoTo NoPython
    RunPython "import xlplan.excel as x; x.guide()"
    Exit Sub
NoPython:
    Dim guidePath As String
    guidePath = GuideTarget()
    On Error GoTo Failed
    ThisWorkbook.FollowHyperlink Address:=guidePath, NewWindow:=True
    Exit Sub
Failed:
    ' "Anvandarguiden kunde inte oppnas" with Swedish letters.
    MsgBox "Anv" & ChrW(228) & "ndarguiden kunde inte " & ChrW(246) & "ppnas:" & vbCrLf & guidePath & _
        vbCrLf & vbCrLf & "Ange s" & ChrW(246) & "kv" & ChrW(228) & "g eller adress i cellen med namnet " & _
        GUIDE_NAME & ".", vbExclamation, "xlplan"
End Sub

' The guide's path or URL: the cell named GUIDE_NAME, else DEFAULT_GUIDE beside the workbook.
Private Function GuideTarget() As String
    Dim configured As String
    On Error Resume Next
    configured = Trim$(CStr(ThisWorkbook.Names(GUIDE_NAME).RefersToRange.Value))
    On Error GoTo 0
    If Len(configured) = 0 Then
        configured = ThisWorkbook.Path & Application.PathSeparator & DEFAULT_GUIDE
    End If
    GuideTarget = configured
End Function

' Shown when Python could not be started at all (xlwings reports Python's own errors).
Private Sub ReportFailure(ByVal pythonFunction As String)
    MsgBox "Det gick inte att starta xlplan (" & pythonFunction & ") i Python." & vbCrLf & _
        "Fel " & Err.Number & ": " & Err.Description & vbCrLf & vbCrLf & _
        "Kontrollera Python-inst" & ChrW(228) & "llningarna p" & ChrW(229) & " bladet xlwings.conf.", _
        vbCritical, "xlplan"
End Sub
